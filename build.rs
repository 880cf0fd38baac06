//! Tells the tests whether Terraform is on PATH: the tests that hold imgform against
//! `terraform` itself run where it is (`cfg(has_terraform)`) and are reported as ignored
//! where it is not.

fn main() {
    println!("cargo:rustc-check-cfg=cfg(has_terraform)");
    println!("cargo:rerun-if-env-changed=PATH");
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("terraform").is_file())
    });
    if found {
        println!("cargo:rustc-cfg=has_terraform");
    }
}
