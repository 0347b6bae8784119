//! The `kapok` command; everything happens in [`kapok::cli`].

fn main() {
    std::process::exit(kapok::cli::main());
}
