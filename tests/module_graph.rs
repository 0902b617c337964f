//! The source tree's shape, checked: no import circle between files of `src/` nor between its
//! top-level modules (the layers go front ends → http/renditions → faces/pipeline →
//! request/edits → error), and no source file over 600 lines.
//!
//! Hand-written over the text because no crate gives a module graph without building the crate
//! with a compiler plugin. It reads every `crate::`/`super::`/`self::` path and every use of a
//! child module declared in the file, resolves it to the file that defines the module (seeing
//! through `pub use child::Name` re-exports, which are not dependencies themselves), and fails on
//! any strongly connected component of more than one file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

type Module = Vec<String>;

struct File {
    /// Module path of the file (`pipeline::ops` for `src/pipeline/ops/mod.rs`).
    module: Module,
    /// `mod.rs`, `lib.rs`, `main.rs`: `self` is the module itself, not its parent's child.
    is_dir_module: bool,
    code: String,
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file's code without comments, string contents and its `#[cfg(test)] mod tests` block.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                out.push('"');
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push('"');
            }
            _ => out.push(c),
        }
    }
    out
}

fn load(src: &Path) -> Vec<File> {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    paths.sort();
    paths
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut module: Module = rel.iter().map(|s| s.to_string_lossy().into_owned()).collect();
            let is_dir_module = matches!(module.last().map(String::as_str), Some("mod" | "lib" | "main"));
            if is_dir_module {
                module.pop();
            }
            let code = code_of(&std::fs::read_to_string(&path).unwrap());
            File {
                module,
                is_dir_module,
                code,
            }
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Every `a::b::c` path in `code` (maximal runs of identifiers joined by `::`), with whether
/// it sits on a `pub use` line, and with `{a, b}` groups after `::` expanded.
fn paths(code: &str) -> Vec<(Vec<String>, bool)> {
    let mut out = Vec::new();
    for statement in code.split_inclusive([';', '\n']) {
        let reexport = statement.trim_start().starts_with("pub use ");
        let bytes: Vec<char> = statement.chars().collect();
        let mut i = 0;
        while i < bytes.len() {
            if is_ident(bytes[i]) && (i == 0 || !(is_ident(bytes[i - 1]) || bytes[i - 1] == ':')) {
                let mut segs = Vec::new();
                let mut j = i;
                loop {
                    let start = j;
                    while j < bytes.len() && is_ident(bytes[j]) {
                        j += 1;
                    }
                    segs.push(bytes[start..j].iter().collect::<String>());
                    if j + 2 < bytes.len() && bytes[j] == ':' && bytes[j + 1] == ':' && is_ident(bytes[j + 2])
                    {
                        j += 2;
                    } else {
                        break;
                    }
                }
                // `prefix::{a, b::c}`: one path per member (one level of braces is all we write).
                if j + 2 < bytes.len() && bytes[j] == ':' && bytes[j + 1] == ':' && bytes[j + 2] == '{' {
                    let close = (j + 3..bytes.len())
                        .find(|&k| bytes[k] == '}')
                        .unwrap_or(bytes.len());
                    let inner: String = bytes[j + 3..close].iter().collect();
                    for member in inner.split(',') {
                        let member = member.trim();
                        if member.is_empty() {
                            continue;
                        }
                        let mut full = segs.clone();
                        full.extend(member.split("::").map(|s| s.trim().to_string()));
                        out.push((full, reexport));
                    }
                    i = close;
                } else if segs.len() > 1 {
                    out.push((segs, reexport));
                }
                i = j.max(i + 1);
            } else {
                i += 1;
            }
        }
    }
    out
}

struct Graph {
    files: Vec<File>,
    by_module: BTreeMap<Module, usize>,
    /// Per file: re-exported name → child module it comes from.
    reexports: Vec<BTreeMap<String, Module>>,
    /// Per file: child modules it declares.
    children: Vec<BTreeSet<String>>,
}

impl Graph {
    fn new(files: Vec<File>) -> Graph {
        let by_module = files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.module.clone(), i))
            .collect();
        let children: Vec<BTreeSet<String>> = files
            .iter()
            .map(|f| {
                f.code
                    .lines()
                    .filter_map(|l| {
                        let l = l.trim();
                        let l = l.strip_prefix("pub ").unwrap_or(l);
                        let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
                        let name = l.strip_prefix("mod ")?.strip_suffix(';')?;
                        Some(name.trim().to_string())
                    })
                    .collect()
            })
            .collect();
        let mut g = Graph {
            files,
            by_module,
            reexports: Vec::new(),
            children,
        };
        g.reexports = (0..g.files.len())
            .map(|i| {
                let mut map = BTreeMap::new();
                for (path, reexport) in paths(&g.files[i].code) {
                    if !reexport {
                        continue;
                    }
                    let full = g.absolute(i, &path);
                    if let (Some(name), Some(target)) = (path.last(), g.resolve_module(&full)) {
                        map.insert(name.clone(), g.files[target].module.clone());
                    }
                }
                map
            })
            .collect();
        g
    }

    /// The module path `path` names from file `i` (`<extern>` for other crates and locals).
    fn absolute(&self, i: usize, path: &[String]) -> Module {
        let f = &self.files[i];
        let parent = || f.module[..f.module.len().saturating_sub(1)].to_vec();
        let (mut base, rest): (Module, &[String]) = match path[0].as_str() {
            "crate" => (Vec::new(), &path[1..]),
            "self" if f.is_dir_module => (f.module.clone(), &path[1..]),
            "self" => (parent(), &path[1..]),
            "super" => {
                // `super` of `a/b.rs` and of `a/b/mod.rs` (both module a::b) is `a`.
                let mut base = parent();
                let mut rest = &path[1..];
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                (base, rest)
            }
            first if self.children[i].contains(first) => {
                // `mod x;` in `a/b.rs` or `a/b/mod.rs` is module a::b::x either way.
                let mut base = f.module.clone();
                base.push(first.to_string());
                (base, &path[1..])
            }
            _ => return Vec::from(["<extern>".to_string()]),
        };
        base.extend(rest.iter().cloned());
        base
    }

    /// The file defining the longest module prefix of `full`, seeing through re-exports.
    fn resolve_module(&self, full: &[String]) -> Option<usize> {
        for len in (0..=full.len()).rev() {
            if let Some(&i) = self.by_module.get(&full[..len]) {
                if let Some(next) = full.get(len) {
                    if let Some(child) = self.reexports.get(i).and_then(|m| m.get(next)) {
                        return self.by_module.get(child).copied();
                    }
                }
                return Some(i);
            }
        }
        None
    }

    fn edges(&self) -> Vec<BTreeSet<usize>> {
        (0..self.files.len())
            .map(|i| {
                paths(&self.files[i].code)
                    .into_iter()
                    .filter(|(_, reexport)| !reexport)
                    .filter_map(|(path, _)| {
                        let full = self.absolute(i, &path);
                        if full.first().is_some_and(|s| s == "<extern>") {
                            return None;
                        }
                        self.resolve_module(&full)
                    })
                    .filter(|&t| t != i && !self.files[t].module.is_empty())
                    .collect()
            })
            .collect()
    }
}

/// Strongly connected components with more than one node (Tarjan).
fn cycles<N: Ord + Clone>(nodes: &[N], edges: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    struct State<N> {
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        on_stack: BTreeSet<N>,
        out: Vec<Vec<N>>,
    }
    fn visit<N: Ord + Clone>(v: &N, edges: &BTreeMap<N, BTreeSet<N>>, s: &mut State<N>) {
        let n = s.index.len();
        s.index.insert(v.clone(), n);
        s.low.insert(v.clone(), n);
        s.stack.push(v.clone());
        s.on_stack.insert(v.clone());
        for w in edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                visit(w, edges, s);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).unwrap();
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                let done = &w == v;
                component.push(w);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in nodes {
        if !s.index.contains_key(v) {
            visit(v, edges, &mut s);
        }
    }
    s.out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_import_circle_between_files() {
    let g = Graph::new(load(&src()));
    let edges = g.edges();
    let nodes: Vec<usize> = (0..g.files.len()).collect();
    let map: BTreeMap<usize, BTreeSet<usize>> = edges.iter().cloned().enumerate().collect();
    let found: Vec<Vec<String>> = cycles(&nodes, &map)
        .into_iter()
        .map(|c| c.into_iter().map(|i| g.files[i].module.join("::")).collect())
        .collect();
    assert!(
        found.is_empty(),
        "import circles between files of src/: {found:#?}"
    );
}

#[test]
fn no_import_circle_between_top_level_modules() {
    let g = Graph::new(load(&src()));
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (i, targets) in g.edges().into_iter().enumerate() {
        let Some(from) = g.files[i].module.first() else {
            continue;
        };
        for t in targets {
            if let Some(to) = g.files[t].module.first().filter(|to| *to != from) {
                map.entry(from.clone()).or_default().insert(to.clone());
            }
        }
    }
    let nodes: Vec<String> = map.keys().cloned().collect();
    let found = cycles(&nodes, &map);
    assert!(
        found.is_empty(),
        "import circles between modules of src/: {found:?}\n{map:#?}"
    );
}

#[test]
fn the_checker_sees_a_circle() {
    // Guards the checker itself: two files that use each other, and a re-export that hides one.
    let dir = tempfile::tempdir().unwrap();
    let s = dir.path();
    std::fs::create_dir_all(s.join("a")).unwrap();
    std::fs::write(s.join("lib.rs"), "pub mod a;\npub mod b;\n").unwrap();
    std::fs::write(s.join("a/mod.rs"), "mod inner;\npub use inner::Thing;\n").unwrap();
    std::fs::write(s.join("a/inner.rs"), "use crate::b::other;\npub struct Thing;\n").unwrap();
    std::fs::write(
        s.join("b.rs"),
        "pub fn other() -> crate::a::Thing { crate::a::Thing }\n",
    )
    .unwrap();
    let g = Graph::new(load(s));
    let nodes: Vec<usize> = (0..g.files.len()).collect();
    let map: BTreeMap<usize, BTreeSet<usize>> = g.edges().into_iter().enumerate().collect();
    let found: Vec<Vec<String>> = cycles(&nodes, &map)
        .into_iter()
        .map(|c| {
            let mut c: Vec<String> = c.into_iter().map(|i| g.files[i].module.join("::")).collect();
            c.sort();
            c
        })
        .collect();
    assert_eq!(found, vec![vec!["a::inner".to_string(), "b".to_string()]]);
}

#[test]
fn no_source_file_over_600_lines() {
    let mut paths = Vec::new();
    rust_files(&src(), &mut paths);
    let long: Vec<String> = paths
        .iter()
        .filter_map(|p| {
            let n = std::fs::read_to_string(p).unwrap().lines().count();
            (n > MAX_LINES).then(|| format!("{} ({n} lines)", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these by responsibility: {long:?}");
}
