//! The docs say what is true (issue 31), checked on every `cargo test`:
//!
//! - every `module::item` that README.md, `docs/*.md` and this crate's
//!   layout map name in backticks exists: in `src/`, or for a test's name
//!   in `tests/` (`crash::killed_at…`); a path whose first segment is an
//!   outside crate (`chrono::Utc`, `sqlx::query`) is not ours to check, and
//!   every file path they name (`src/fit.rs`, `docs/design.md`) exists;
//! - the layout map in `src/lib.rs` lists every module, and a module
//!   imports only modules listed after it.
//!
//! A reading of the text, not a compiler: an item is found by its
//! declaration (`fn x`, `struct X`, `pub use …X`, a variant or a method of
//! a type declared in that file), which is enough to catch a renamed or
//! moved item.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use regex::Regex;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Where a path's first segment may name a module of ours: the crate, then
/// the end-to-end tests' modules and the test crates.
const ROOTS: [&str; 3] = ["src", "tests/e2e", "tests"];

/// Where a file path named in the docs must exist.
const FILE_ROOTS: [&str; 8] =
    ["src/", "docs/", "dialogues/", "tests/", "migrations/", "deploy/", "benches/", "proptest-regressions/"];

/// The crates a path may start with that are not ours: the standard
/// library and every dependency in Cargo.toml.
fn outside_crates(manifest: &str) -> BTreeSet<String> {
    let mut crates: BTreeSet<String> = ["std", "core", "alloc"].map(String::from).into();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line.ends_with("dependencies]");
            continue;
        }
        if in_deps {
            if let Some((name, _)) = line.split_once('=') {
                crates.insert(name.trim().replace('-', "_"));
            }
        }
    }
    // The test crates depend on this one: its paths are ours.
    crates.remove(env!("CARGO_PKG_NAME"));
    crates
}

/// The text outside fenced code blocks (commands to type are not paths).
fn prose(text: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// What is in backticks, each span whole.
fn spans(text: &str) -> Vec<String> {
    let re = Regex::new(r"`([^`\n]+)`").expect("a regex");
    re.captures_iter(&prose(text)).map(|c| c[1].to_string()).collect()
}

/// The spans that are a Rust path of a module of ours or an unknown one:
/// `commands::COMMANDS`, `bad_input::*`, `limits::a_ward…`; not
/// `chrono::Utc`, not a command line.
fn rust_paths(text: &str, outside: &BTreeSet<String>) -> Vec<String> {
    let re = Regex::new(r"^[a-z_][a-z0-9_]*(::[A-Za-z_][A-Za-z0-9_]*)*(::\*|…)?$").expect("a regex");
    spans(text)
        .into_iter()
        .filter(|s| s.contains("::") && re.is_match(s))
        .filter(|s| s.split("::").next().is_some_and(|first| !outside.contains(first)))
        .collect()
}

/// The spans that are a file or folder of the repository.
fn file_paths(text: &str) -> Vec<String> {
    spans(text)
        .into_iter()
        .filter(|s| FILE_ROOTS.iter().any(|r| s.starts_with(r)))
        .filter(|s| !s.contains(char::is_whitespace) && !s.contains('<'))
        .collect()
}

/// The file of module `name` in folder `dir`, if there is one.
fn module_file(dir: &Path, name: &str) -> Option<PathBuf> {
    [dir.join(format!("{name}.rs")), dir.join(name).join("mod.rs")].into_iter().find(|p| p.is_file())
}

/// A name as a pattern: `a_ward…` stands for every name it begins.
fn name_pattern(name: &str) -> String {
    match name.strip_suffix('…') {
        Some(start) => format!(r"{}\w*", regex::escape(start)),
        None => format!(r"{}\b", regex::escape(name)),
    }
}

/// Whether `file` declares item `name`, or re-exports it: the module its
/// `pub use` names, when that is one of ours.
fn declares(file: &Path, name: &str) -> Option<PathBuf> {
    let text = read(file);
    let name = name_pattern(name);
    let declared =
        Regex::new(&format!(r"\b(fn|struct|enum|const|static|trait|type|union|mod|macro_rules!)\s+(r#)?{name}"))
            .expect("a regex");
    if declared.is_match(&text) {
        return Some(file.to_path_buf());
    }
    let reexport = Regex::new(r"pub(\([a-z]+\))?\s+use\s+([^;]+);").expect("a regex");
    let word = Regex::new(&format!(r"\b{name}")).expect("a regex");
    for c in reexport.captures_iter(&text) {
        if word.is_match(&c[2]) {
            let dir = if file.ends_with("mod.rs") || file.ends_with("lib.rs") {
                file.parent().map(Path::to_path_buf)
            } else {
                Some(file.with_extension(""))
            };
            let first = c[2].split("::").next().unwrap_or("").trim().to_string();
            return dir.and_then(|d| module_file(&d, &first)).or_else(|| Some(file.to_path_buf()));
        }
    }
    None
}

/// Whether `file` has `member` (a method, a variant, a field, an
/// associated constant) of a type declared there.
fn has_member(file: &Path, member: &str) -> bool {
    let member = name_pattern(member);
    Regex::new(&format!(r"(?m)\b(fn|const|type)\s+{member}|^\s*(pub(\([a-z]+\))?\s+)?{member}\s*[:,({{]"))
        .expect("a regex")
        .is_match(&read(file))
}

/// Whether `path` (`a::b::c`, `a::*`) names something in `root`.
fn exists_in(root: &Path, path: &str) -> bool {
    let path = path.trim_end_matches("::*");
    let segments: Vec<&str> = path.split("::").collect();
    let (mut dir, mut file) = (root.to_path_buf(), None);
    let mut used = 0;
    for segment in &segments {
        match module_file(&dir, segment) {
            Some(f) => {
                dir = dir.join(segment);
                file = Some(f);
                used += 1;
            }
            None => break,
        }
    }
    let Some(file) = file else { return false };
    let rest = &segments[used..];
    let Some((item, members)) = rest.split_first() else { return true };
    let Some(home) = declares(&file, item) else { return false };
    members.iter().all(|m| has_member(&home, m))
}

/// The Rust and file paths `text` names that do not exist in `repo`.
fn missing(repo: &Path, text: &str) -> Vec<String> {
    let outside = outside_crates(&read(&repo.join("Cargo.toml")));
    let mut gone: Vec<String> = rust_paths(text, &outside)
        .into_iter()
        .map(|p| p.trim_start_matches("crate::").trim_start_matches("todanpho::").to_string())
        .filter(|p| !ROOTS.iter().any(|r| exists_in(&repo.join(r), p)))
        .collect();
    for file in file_paths(text) {
        let file = file.trim_end_matches('/');
        let there = match file.split_once('*') {
            Some((dir, _)) => repo.join(dir).is_dir(),
            None => repo.join(file).exists(),
        };
        if !there {
            gone.push(file.to_string());
        }
    }
    gone
}

/// `src/lib.rs`'s doc comment.
fn lib_doc(lib: &str) -> String {
    lib.lines().filter_map(|l| l.strip_prefix("//!")).collect::<Vec<_>>().join("\n")
}

#[test]
fn every_path_the_docs_name_exists() {
    let repo = repo();
    let mut docs = vec![repo.join("README.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(repo.join("docs"))
        .expect("docs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    assert!(pages.iter().any(|p| p.ends_with("design.md")), "the design page is in docs/");
    docs.extend(pages);
    let mut wrong = Vec::new();
    for doc in &docs {
        for path in missing(&repo, &read(doc)) {
            wrong.push(format!("{}: `{path}`", doc.strip_prefix(&repo).unwrap_or(doc).display()));
        }
    }
    for path in missing(&repo, &lib_doc(&read(&repo.join("src/lib.rs")))) {
        wrong.push(format!("src/lib.rs: `{path}`"));
    }
    assert!(wrong.is_empty(), "the docs name what does not exist:\n{}", wrong.join("\n"));
}

#[test]
fn the_checker_catches_a_renamed_item_and_leaves_other_crates_alone() {
    let repo = repo();
    let said = |text: &str| missing(&repo, text);
    // The README's words before issue 31.
    assert_eq!(said("held in one place (`handle::placed`, from the catalog in `help::COMMANDS`)"), ["help::COMMANDS"]);
    assert_eq!(said("the catalog in `commands::COMMANDS`"), Vec::<String>::new());
    assert_eq!(said("`commands::NO_SUCH_TABLE`"), ["commands::NO_SUCH_TABLE"]);
    // Nested modules, re-exports, a type's method, a test's name, a glob.
    for fine in [
        "`db::UpdateTx`",
        "`intake::process`",
        "`domain::household_line`",
        "`consultation::Consultation::ended_at`",
        "`crate::turn::Turn::refuse`",
        "`consultation::paper::PaperButton::Record`",
        "`crash::killed_at_random_points…`",
        "`bad_input::*`",
        "`src/fit.rs`",
        "`dialogues/*.toml`",
    ] {
        assert_eq!(said(fine), Vec::<String>::new(), "{fine}");
    }
    for wrong in [
        "`consultation::Consultation::closed_early_at`",
        "`domain::address::nowhere`",
        "`crash::no_such_test…`",
        "`src/help.rs`",
    ] {
        assert_eq!(said(wrong).len(), 1, "{wrong}");
    }
    // Not ours: outside crates, commands to type, code blocks.
    assert_eq!(said("`chrono::Utc`, `sqlx::query`, `std::fs::read`"), Vec::<String>::new());
    assert_eq!(said("`cargo test --test e2e crash::nothing`"), Vec::<String>::new());
    assert_eq!(said("```\nhelp::COMMANDS\n`help::COMMANDS`\n```"), Vec::<String>::new());
}

/// The top-level modules a file imports through `crate::` (its tests
/// aside).
fn crate_imports(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    let code: String = code.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut found = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        let trimmed = rest.trim_start();
        if let Some(inner) = trimmed.strip_prefix('{') {
            // `crate::{a, b::{c}}`: the first name of each top-level part.
            let (mut depth, mut part_start, mut end) = (0, true, inner.len());
            for (i, ch) in inner.char_indices() {
                match ch {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        end = i;
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => part_start = true,
                    c if part_start && (c.is_ascii_alphanumeric() || c == '_') => {
                        let name: String =
                            inner[i..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                        found.insert(name);
                        part_start = false;
                    }
                    _ => {}
                }
            }
            rest = &inner[end..];
        } else {
            let name: String = trimmed.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            found.insert(name);
        }
    }
    found.retain(|n| !n.is_empty() && n != "self");
    found
}

/// Every `.rs` file under `dir` (the source scans of other tests use it too).
pub(crate) fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a folder").filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn the_layout_map_lists_every_module_and_imports_point_down_it() {
    let src = repo().join("src");
    let lib = read(&src.join("lib.rs"));
    let declared: BTreeSet<String> = Regex::new(r"(?m)^(pub )?mod ([a-z_]+);")
        .expect("a regex")
        .captures_iter(&lib)
        .map(|c| c[2].to_string())
        .collect();
    let doc = lib_doc(&lib);
    let layout = doc.split("# Layout").nth(1).expect("a layout map");
    // The modules in the order of the map's lines (`- `a`, `b` — …`).
    let mut order: Vec<String> = Vec::new();
    for line in layout.lines().filter(|l| l.trim_start().starts_with("- ")) {
        for span in spans(line) {
            if declared.contains(&span) && !order.contains(&span) {
                order.push(span);
            }
        }
    }
    let listed: BTreeSet<String> = order.iter().cloned().collect();
    assert_eq!(listed, declared, "the map lists every module declared in lib.rs, and only those");
    let place = |m: &str| order.iter().position(|o| o == m);

    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut upward = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel.components().next().and_then(|c| c.as_os_str().to_str()).unwrap_or("");
        let top = top.trim_end_matches(".rs");
        // Test code aside: files of tests, and this one.
        if matches!(top, "lib" | "main" | "doc_check") || rel.ends_with("tests.rs") {
            continue;
        }
        let Some(from) = place(top) else { continue };
        for imported in crate_imports(&read(&file)) {
            if imported != top && place(&imported).is_some_and(|to| to < from) {
                upward.push(format!("{} imports `{imported}`, listed above `{top}`", rel.display()));
            }
        }
    }
    assert!(upward.is_empty(), "src/lib.rs's map says imports point down it:\n{}", upward.join("\n"));
}

#[test]
fn imports_are_read_from_use_trees_and_paths() {
    let text = "use crate::{channel::{Button, Keyboard}, text};\nuse crate::roles;\n\
                fn f() { crate::household::repo::line(); } // crate::stats\n\
                #[cfg(test)]\nmod tests { use crate::startup; }";
    let found: Vec<String> = crate_imports(text).into_iter().collect();
    assert_eq!(found, ["channel", "household", "roles", "text"]);
}
