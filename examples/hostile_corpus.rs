//! Writes the hostile corpus (see tests/hostile/corpus.rs) into a folder, for `pixfront serve
//! --root DIR` and a load tool: `scripts/hostile-corpus DIR [ci]` (`ci`: the smaller sizes the
//! test uses).

#[path = "../tests/hostile/corpus.rs"]
mod corpus;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| {
        eprintln!("usage: hostile_corpus DIR");
        std::process::exit(2)
    });
    let size = match std::env::args().nth(2).as_deref() {
        Some("ci") => corpus::Size::Ci,
        _ => corpus::Size::Issue,
    };
    let urls = corpus::write(std::path::Path::new(&dir), size);
    println!(
        "wrote {dir}/{}/ and {dir}/urls.txt ({} requests); serve it with: pixfront serve --root {dir} --source-buckets {}",
        corpus::BUCKET,
        urls.len(),
        corpus::BUCKET
    );
    println!("normal requests to mix in: {}", corpus::NORMAL.join(" "));
}
