//! The application: cargo run

/// The text the application prints.
fn greeting(name: &str) -> String {
    format!("Hello, {name}!")
}

fn main() {
    println!("{}", greeting("world"));
}

#[cfg(test)]
mod tests {
    use super::greeting;

    #[test]
    fn greets() {
        assert_eq!(greeting("world"), "Hello, world!");
    }
}
