//! Values as Terraform prints them for people (its `FormatValue`): strings quoted, objects as
//! `{` with one `"key" = value` line each, lists as `[` with one `value,` line each, nested
//! values indented by two spaces, empty ones as `{}` and `[]`. Used for `Outputs:`, `output`
//! and `show`.

use serde_json::Value as J;

/// `v` in Terraform's value syntax, its nested lines indented by `indent` spaces.
pub fn hcl(v: &J, indent: usize) -> String {
    hcl_step(v, indent, 2)
}

/// Like [`hcl`], nested levels indented by `step` spaces. With 4 (Terraform's `state show`
/// and `show`), map keys are aligned as that rendering aligns them; `Outputs:` does not.
pub fn hcl_step(v: &J, indent: usize, step: usize) -> String {
    let pad = " ".repeat(indent + step);
    let end = " ".repeat(indent);
    match v {
        J::Null => "null".into(),
        J::Bool(b) => b.to_string(),
        J::Number(n) => n.to_string(),
        J::String(s) => J::String(s.clone()).to_string(),
        J::Array(a) if a.is_empty() => "[]".into(),
        J::Array(a) => {
            let mut out = String::from("[\n");
            for x in a {
                out.push_str(&format!("{pad}{},\n", hcl_step(x, indent + step, step)));
            }
            out.push_str(&format!("{end}]"));
            out
        }
        J::Object(m) if m.is_empty() => "{}".into(),
        J::Object(m) => {
            let mut out = String::from("{\n");
            let w = if step == 4 {
                m.keys()
                    .map(|k| J::String(k.clone()).to_string().chars().count())
                    .max()
                    .unwrap_or(0)
            } else {
                0
            };
            for (k, x) in m {
                let key = J::String(k.clone()).to_string();
                let fill = " ".repeat(w.saturating_sub(key.chars().count()));
                out.push_str(&format!(
                    "{pad}{key}{fill} = {}\n",
                    hcl_step(x, indent + step, step)
                ));
            }
            out.push_str(&format!("{end}}}"));
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_print_as_terraform_prints_them() {
        assert_eq!(hcl(&json!("a\"b"), 0), r#""a\"b""#);
        assert_eq!(hcl(&json!(5), 0), "5");
        assert_eq!(hcl(&json!({}), 0), "{}");
        assert_eq!(hcl(&json!([]), 0), "[]");
        assert_eq!(
            hcl(&json!({"a": "b", "c": "d"}), 0),
            "{\n  \"a\" = \"b\"\n  \"c\" = \"d\"\n}"
        );
        assert_eq!(hcl(&json!(["b", "d"]), 0), "[\n  \"b\",\n  \"d\",\n]");
        assert_eq!(
            hcl(&json!({"m": {"k": [1]}}), 0),
            "{\n  \"m\" = {\n    \"k\" = [\n      1,\n    ]\n  }\n}"
        );
    }
}
