fn main() {
    println!("leakhound");
}
