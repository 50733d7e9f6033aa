//! Label selectors as the API server takes them in `?labelSelector=`: equality
//! (`k=v`, `k==v`), inequality (`k!=v`) and existence (`k`, `!k`), joined by commas.

use serde_json::Value;

pub fn matches(selector: &str, labels: &Value) -> bool {
    selector.split(',').map(str::trim).filter(|t| !t.is_empty()).all(|term| {
        let get = |k: &str| labels.get(k.trim()).and_then(Value::as_str);
        if let Some((k, v)) = term.split_once("!=") {
            get(k) != Some(v.trim())
        } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
            get(k) == Some(v.trim())
        } else if let Some(k) = term.strip_prefix('!') {
            get(k).is_none()
        } else {
            get(term).is_some()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::matches;
    use serde_json::json;

    #[test]
    fn equality_inequality_and_existence() {
        let labels = json!({"app": "api", "tier": "web"});
        assert!(matches("app=api,tier==web", &labels));
        assert!(!matches("app=api,tier=db", &labels));
        assert!(matches("app!=db", &labels));
        assert!(matches("tier", &labels));
        assert!(!matches("!tier", &labels));
        assert!(matches("", &labels));
    }
}
