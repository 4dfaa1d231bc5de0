//! Toast texts in English and Dutch, rendered from `kind` and `params` (not from the server's
//! English `title`/`body`, which are only a default for simple clients).

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Nl,
}

impl Language {
    /// From a locale tag such as `nl-NL`, `nl_BE.UTF-8` or `en-US`; anything else is English.
    pub fn from_locale(tag: &str) -> Self {
        let lang = tag.split(['-', '_', '.']).next().unwrap_or("").to_ascii_lowercase();
        if lang == "nl" { Language::Nl } else { Language::En }
    }

    /// The OS locale, via `sys-locale`-style environment variables.
    pub fn from_os() -> Self {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .find_map(|var| std::env::var(var).ok().filter(|v| !v.is_empty() && v != "C" && v != "POSIX"))
            .map(|tag| Self::from_locale(&tag))
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToastText {
    pub title: String,
    pub body: String,
}

fn param<'a>(params: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| params.get(*k).and_then(Value::as_str)).filter(|s| !s.is_empty())
}

/// The text of one notification's toast.
pub fn render(lang: Language, kind: &str, params: &Value, file_name: Option<&str>) -> ToastText {
    let name = file_name.or_else(|| param(params, &["file_name", "name"])).unwrap_or(match lang {
        Language::En => "A file",
        Language::Nl => "Een bestand",
    });
    let percent = params.get("percent").and_then(Value::as_u64).unwrap_or(90);
    let (title, body) = match (lang, kind) {
        (Language::En, "file.stored") => (format!("{name} was stored"), "It is safe in your LockBox.".to_owned()),
        (Language::Nl, "file.stored") => (format!("{name} is opgeslagen"), "Het staat veilig in je LockBox.".to_owned()),
        (Language::En, "file.deleted") => (format!("{name} was deleted"), "It is no longer in your LockBox.".to_owned()),
        (Language::Nl, "file.deleted") => (format!("{name} is verwijderd"), "Het staat niet meer in je LockBox.".to_owned()),
        (Language::En, "storage.quota_warning") => (
            "Your LockBox is almost full".to_owned(),
            format!("You have used {percent} % of your storage."),
        ),
        (Language::Nl, "storage.quota_warning") => (
            "Je LockBox is bijna vol".to_owned(),
            format!("Je hebt {percent} % van je opslag gebruikt."),
        ),
        (Language::En, other) => ("LockBox".to_owned(), format!("Something happened: {other}")),
        (Language::Nl, other) => ("LockBox".to_owned(), format!("Er is iets gebeurd: {other}")),
    };
    ToastText { title, body }
}

/// The summary toast of a folded burst.
pub fn render_summary(lang: Language, stored: usize, total: usize) -> ToastText {
    match lang {
        Language::En if stored == total => ToastText {
            title: format!("{total} files stored"),
            body: "They are safe in your LockBox.".into(),
        },
        Language::Nl if stored == total => ToastText {
            title: format!("{total} bestanden opgeslagen"),
            body: "Ze staan veilig in je LockBox.".into(),
        },
        Language::En => ToastText {
            title: format!("{total} new notifications"),
            body: "Open LockBox to see them.".into(),
        },
        Language::Nl => ToastText {
            title: format!("{total} nieuwe meldingen"),
            body: "Open LockBox om ze te zien.".into(),
        },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn locale_tags_pick_the_language() {
        for (tag, lang) in [("nl-NL", Language::Nl), ("nl_BE.UTF-8", Language::Nl), ("en-US", Language::En), ("de", Language::En), ("", Language::En)] {
            assert_eq!(Language::from_locale(tag), lang, "{tag}");
        }
    }

    #[test]
    fn texts_come_from_kind_and_params_in_both_languages() {
        let p = json!({"file_name": "report.pdf"});
        assert_eq!(render(Language::En, "file.stored", &p, None).title, "report.pdf was stored");
        assert_eq!(render(Language::Nl, "file.stored", &p, None).title, "report.pdf is opgeslagen");
        assert_eq!(render(Language::Nl, "file.deleted", &p, Some("x.txt")).title, "x.txt is verwijderd");
        let q = render(Language::En, "storage.quota_warning", &json!({"percent": 93}), None);
        assert_eq!(q.body, "You have used 93 % of your storage.");
        assert!(render(Language::En, "file.shared", &json!({}), None).body.contains("file.shared"));
        assert_eq!(render_summary(Language::En, 12, 12).title, "12 files stored");
        assert_eq!(render_summary(Language::Nl, 3, 5).title, "5 nieuwe meldingen");
    }
}
