//! Classifies a tool by its name into the OISP `tool_info.type` categories.

use oisp_event::ToolType;

/// Best-effort category from common tool naming (`bash`, `read_file`, `web_search`,
/// `str_replace_editor`, `getWeather`, ...). The name is split into words (on `_`, `-`, `.`,
/// spaces and camelCase); whole words decide. Names that fit no category are `other`.
pub fn classify_tool(name: &str) -> ToolType {
    let words = words(name);
    let has = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    if has(&["computer", "screenshot", "mouse", "keyboard"]) {
        ToolType::ComputerUse
    } else if has(&["bash", "shell", "terminal", "cmd", "exec", "command", "run"]) {
        ToolType::Shell
    } else if has(&["edit", "patch", "replace", "editor", "apply"]) {
        ToolType::FileEdit
    } else if has(&["write", "create", "save", "append"]) && has(&["file", "files", "document"]) {
        ToolType::FileWrite
    } else if has(&["read", "open", "cat", "view", "list", "ls", "glob", "dir"]) {
        ToolType::FileRead
    } else if has(&[
        "python",
        "code",
        "eval",
        "jupyter",
        "notebook",
        "interpreter",
    ]) {
        ToolType::CodeExecution
    } else if has(&["browser", "navigate", "click", "browse"]) {
        ToolType::Browser
    } else if has(&["search", "grep", "find", "lookup"]) {
        ToolType::Search
    } else if has(&["retrieve", "retrieval", "rag", "vector", "knowledge"]) {
        ToolType::Retrieval
    } else if has(&["sql", "database", "db", "query"]) {
        ToolType::Database
    } else if has(&["http", "fetch", "request", "url", "curl", "webhook"]) {
        ToolType::Http
    } else if has(&["get", "send", "post", "api", "call"]) {
        ToolType::ApiCall
    } else {
        ToolType::Other
    }
}

/// Lower-case words of an identifier.
fn words(name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if !ch.is_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
        cur.extend(ch.to_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_names_are_classified() {
        assert_eq!(classify_tool("bash"), ToolType::Shell);
        assert_eq!(classify_tool("str_replace_editor"), ToolType::FileEdit);
        assert_eq!(classify_tool("read_file"), ToolType::FileRead);
        assert_eq!(classify_tool("web_search"), ToolType::Search);
        assert_eq!(classify_tool("get_weather"), ToolType::ApiCall);
        assert_eq!(classify_tool("getWeather"), ToolType::ApiCall);
        assert_eq!(classify_tool("write_file"), ToolType::FileWrite);
        assert_eq!(classify_tool("run_python"), ToolType::Shell);
        assert_eq!(classify_tool("frobnicate"), ToolType::Other);
        assert_eq!(classify_tool("concatenate"), ToolType::Other);
    }
}
