mod common;
use common::*;

#[test]
fn shared_corpus_matches_libjpeg_turbo() {
    for p in shared_jpegs() {
        let bytes = std::fs::read(&p).unwrap();
        for denom in [2u8, 4, 8] {
            let ours = ours(&bytes, denom, 1);
            let reference = reference(&bytes, denom);
            match (&ours, &reference) {
                (Ok((img, _)), Some(r)) => {
                    let (max, mean) = diff(img, r);
                    println!("{} 1/{denom}: max {max:?} mean {mean:.4?}", p.display());
                }
                (Err(e), _) => println!("{} 1/{denom}: ours {e}", p.display()),
                (Ok(_), None) => panic!("{}: we decoded what libjpeg-turbo refuses", p.display()),
            }
        }
    }
}
