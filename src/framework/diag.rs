//! Diagnostics that point into a framework file: `file:line:col`, the offending text underlined,
//! and a hint. All problems of a file are collected and reported together.

use std::ops::Range;
use std::sync::Arc;

use codespan_reporting::diagnostic::{Diagnostic as CsDiagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};

/// A framework file's name (as given by the user) and its text.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The path as the user wrote it; used in messages.
    pub name: String,
    /// The whole file text.
    pub text: Arc<str>,
}

impl SourceFile {
    /// Wraps a file's name and text.
    pub fn new(name: impl Into<String>, text: impl Into<Arc<str>>) -> Self {
        Self {
            name: name.into(),
            text: text.into(),
        }
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let col = before[line_start..].chars().count() + 1;
        (line, col)
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    /// The framework cannot be used.
    Error,
    /// Suspicious but usable.
    Warning,
}

/// One problem in a framework file.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// Byte range in the file that the problem is about.
    pub span: Range<usize>,
    /// What is wrong, in one line.
    pub message: String,
    /// Short text shown under the underlined span.
    pub label: String,
    /// How to fix it ("did you mean `population`?").
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            span,
            message: message.into(),
            label: String::new(),
            hint: None,
        }
    }

    /// A warning at `span`.
    pub fn warning(span: Range<usize>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(span, message)
        }
    }

    /// Sets the label under the underlined text.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the hint when there is one.
    pub fn with_hint_opt(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }
}

/// All diagnostics of one framework file.
#[derive(Clone, Debug)]
pub struct Diagnostics {
    /// The file they point into.
    pub file: SourceFile,
    /// In file order.
    pub items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// Number of errors (warnings excluded).
    pub fn error_count(&self) -> usize {
        self.items
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// A diagnostic on a line too long to print whole (a generated 100,000-term expression):
    /// the same layout as codespan's, with the line cut to a window around the span.
    fn long_line(&self, d: &Diagnostic, span: Range<usize>) -> Option<String> {
        use unicode_width::UnicodeWidthStr;
        const LONG: usize = 300;
        const CONTEXT: usize = 60;
        let text = &*self.file.text;
        let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[span.start..]
            .find('\n')
            .map_or(text.len(), |i| span.start + i);
        if line_end - line_start <= LONG {
            return None;
        }
        let floor = |mut i: usize| {
            while !text.is_char_boundary(i) {
                i -= 1;
            }
            i
        };
        let from = floor(span.start.saturating_sub(CONTEXT).max(line_start));
        let span_end = floor(span.end.min(span.start + CONTEXT).min(line_end)).max(span.start);
        let to = floor((span_end + CONTEXT).min(line_end));
        let (line, col) = self.file.line_col(span.start);
        let gutter = " ".repeat(line.to_string().len());
        let lead = if from > line_start { "…" } else { "" };
        let tail = if to < line_end { "…" } else { "" };
        let pad = UnicodeWidthStr::width(lead) + UnicodeWidthStr::width(&text[from..span.start]);
        let carets = UnicodeWidthStr::width(&text[span.start..span_end]).max(1);
        let kind = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut out = format!(
            "{kind}: {}\n{gutter} ┌─ {}:{line}:{col}\n{gutter} │\n{line} │ {lead}{}{tail}\n{gutter} │ {}{} {}\n",
            d.message,
            self.file.name,
            &text[from..to],
            " ".repeat(pad),
            "^".repeat(carets),
            d.label
        );
        if let Some(h) = &d.hint {
            out.push_str(&format!("{gutter} │\n{gutter} = help: {h}\n"));
        }
        out.push('\n');
        Some(out)
    }

    /// Renders every diagnostic as plain text, `file:line:col` with the text underlined.
    pub fn render(&self) -> String {
        let file = SimpleFile::new(self.file.name.as_str(), &*self.file.text);
        let config = Config::default();
        let mut out = String::new();
        for d in &self.items {
            let cs = match d.severity {
                Severity::Error => CsDiagnostic::error(),
                Severity::Warning => CsDiagnostic::warning(),
            };
            let end = d.span.end.min(self.file.text.len());
            let start = d.span.start.min(end);
            if let Some(short) = self.long_line(d, start..end) {
                out.push_str(&short);
                continue;
            }
            let mut cs = cs
                .with_message(&d.message)
                .with_labels(vec![Label::primary((), start..end).with_message(&d.label)]);
            if let Some(h) = &d.hint {
                cs = cs.with_notes(vec![format!("help: {h}")]);
            }
            // Rendering into a String cannot fail for a span inside the file.
            if term::emit_to_string(&mut out, &config, &file, &cs).is_err() {
                let (line, col) = self.file.line_col(start);
                out.push_str(&format!(
                    "error: {}\n  at {}:{line}:{col}\n",
                    d.message, self.file.name
                ));
            }
        }
        let errors = self.error_count();
        let warnings = self.items.len() - errors;
        if errors > 0 {
            out.push_str(&format!(
                "{}: {errors} error{}{}\n",
                self.file.name,
                if errors == 1 { "" } else { "s" },
                if warnings > 0 {
                    format!(
                        ", {warnings} warning{}",
                        if warnings == 1 { "" } else { "s" }
                    )
                } else {
                    String::new()
                }
            ));
        }
        out
    }
}

impl std::fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

/// The closest candidate to `word` by edit distance, when it is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(&word.to_lowercase(), &c.to_lowercase());
        if score > 0.8 && best.is_none_or(|(s, _)| score > s) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_cut_to_a_window_around_the_span() {
        let text = format!("a = \"{}\"\n", "x + ".repeat(1000));
        let file = SourceFile::new("f.toml", text.as_str());
        let d = Diagnostic::error(2005..2006, "bad").with_label("here");
        let out = Diagnostics {
            file,
            items: vec![d],
        }
        .render();
        assert!(out.contains("f.toml:1:2006"), "{out}");
        assert!(out.len() < 600, "{} bytes: {out}", out.len());
        let lines: Vec<&str> = out.lines().collect();
        // The caret sits under the span's character.
        let code = lines.iter().find(|l| l.starts_with("1 │ ")).unwrap();
        let caret = lines.iter().find(|l| l.contains("^ here")).unwrap();
        let at = caret.find('^').unwrap();
        let under: String = code
            .chars()
            .skip(caret[..at].chars().count())
            .take(1)
            .collect();
        assert_eq!(under, &text[2005..2006]);
        assert!(code.contains('…'));
        // Short lines keep codespan's full rendering.
        let short = Diagnostics {
            file: SourceFile::new("f.toml", "a = 1\n"),
            items: vec![Diagnostic::error(4..5, "bad").with_label("here")],
        }
        .render();
        assert!(
            short.contains("a = 1") && short.contains("f.toml:1:5"),
            "{short}"
        );
    }
}
