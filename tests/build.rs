//! Finds the conformance cases, so that writing a case is all it takes to run it: every
//! `pub async fn NAME(storage: &dyn Storage)` (one parameter, the port, nothing returned) in
//! `src/conformance/*.rs` is listed in `conformance::CASES` as `FILE::NAME`, and every
//! `pub async fn NAME(store: &dyn BlobStore)` in `src/blob_conformance/*.rs` in
//! `blob_conformance::CASES`. A list kept by hand let a case that nobody added to it pass
//! silently by never running.

use std::error::Error;
use std::fmt::Write as _;
use std::path::Path;

use syn::{FnArg, Item, ItemFn, ReturnType, Type, TypeParamBound, Visibility};

/// (directory of the cases, the port they take, the file listing them in `OUT_DIR`).
const SUITES: [(&str, &str, &str); 2] = [
    ("src/conformance", "Storage", "conformance_cases.rs"),
    ("src/blob_conformance", "BlobStore", "blob_conformance_cases.rs"),
];

fn main() -> Result<(), Box<dyn Error>> {
    for (dir, port, out) in SUITES {
        suite(dir, port, out)?;
    }
    Ok(())
}

fn suite(dir: &str, port: &str, out_file: &str) -> Result<(), Box<dyn Error>> {
    println!("cargo::rerun-if-changed={dir}");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            return Err(format!("{}: the cases live in {dir}/*.rs, not in subdirectories", path.display()).into());
        }
        if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();

    let mut cases = String::new();
    for file in &files {
        let module = file.file_stem().and_then(|s| s.to_str()).ok_or("a file name in UTF-8")?;
        let source = std::fs::read_to_string(file)?;
        let parsed = syn::parse_file(&source).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut found = Vec::new();
        collect(&parsed.items, module, port, &mut found);
        if module == "mod" && !found.is_empty() {
            let names: Vec<_> = found.iter().map(|path| path.trim_start_matches("mod::")).collect();
            return Err(format!("{}: {names:?} are cases, which belong in a feature's file", file.display()).into());
        }
        for path in found {
            writeln!(cases, "    Case {{ name: {path:?}, run: |storage| ::std::boxed::Box::pin({path}(storage)) }},")?;
        }
    }
    let generated = format!(
        "/// Every conformance case, found by `tests/build.rs`.\npub static CASES: &[Case<dyn {port}>] = &[\n{cases}];\n"
    );
    let out = std::env::var("OUT_DIR")?;
    std::fs::write(Path::new(&out).join(out_file), generated)?;
    Ok(())
}

/// The cases among `items`, inline modules included, as paths from the conformance module.
fn collect(items: &[Item], prefix: &str, port: &str, found: &mut Vec<String>) {
    for item in items {
        match item {
            Item::Fn(function) if is_case(function, port) => found.push(format!("{prefix}::{}", function.sig.ident)),
            Item::Mod(inline) => {
                if let Some((_, items)) = &inline.content {
                    collect(items, &format!("{prefix}::{}", inline.ident), port, found);
                }
            }
            _ => {}
        }
    }
}

/// `pub async fn NAME(storage: &dyn PORT)`: helpers take more parameters, or are private.
fn is_case(function: &ItemFn, port: &str) -> bool {
    let sig = &function.sig;
    let takes_only_the_port = match sig.inputs.iter().collect::<Vec<_>>()[..] {
        [FnArg::Typed(parameter)] => is_dyn(&parameter.ty, port),
        _ => false,
    };
    matches!(function.vis, Visibility::Public(_))
        && sig.asyncness.is_some()
        && sig.generics.params.is_empty()
        && matches!(sig.output, ReturnType::Default)
        && takes_only_the_port
}

fn is_dyn(ty: &Type, port: &str) -> bool {
    let Type::Reference(reference) = ty else { return false };
    let Type::TraitObject(object) = &*reference.elem else { return false };
    match object.bounds.iter().collect::<Vec<_>>()[..] {
        [TypeParamBound::Trait(bound)] => bound.path.segments.last().is_some_and(|s| s.ident == port),
        _ => false,
    }
}
