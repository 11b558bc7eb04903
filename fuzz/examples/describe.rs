//! Prints what an input means to a target: `cargo run --example describe TARGET FILE`.

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(target), Some(file)) = (args.next(), args.next()) else {
        eprintln!("usage: describe TARGET FILE");
        std::process::exit(2);
    };
    let data = std::fs::read(&file).expect("readable input");
    println!("{}", walletwire_fuzz::describe(&target, &data));
}
