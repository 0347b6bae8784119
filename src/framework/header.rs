//! The `[report]` table: what the issuing office prints at the head of its report — a title,
//! the issuer and a publication note. Each field is a plain string (the same in every
//! language) or a table `{ zh = "…", en = "…" }`.

use std::ops::Range;

use toml::de::{DeTable, DeValue};

use super::diag::Diagnostic;
use super::model::Name;
use super::read::{Sink, TableReader, type_name};

/// Header fields of the report (`[report]`); every one is optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReportHeader {
    /// The report's title (default: the index's name).
    pub title: Option<Name>,
    /// The issuing office, e.g. 广州市社会治安综合治理委员会办公室.
    pub issuer: Option<Name>,
    /// A publication note, e.g. the release date, the status of the figures or a contact.
    pub note: Option<Name>,
}

/// Reads and checks the `[report]` table: unknown keys and values of the wrong type are
/// diagnostics at their line and column.
pub(super) fn read(sink: &mut Sink, t: &DeTable<'_>, span: Range<usize>) -> ReportHeader {
    let mut r = TableReader::new(t, span, "[report]");
    let header = ReportHeader {
        title: text(sink, &mut r, "title"),
        issuer: text(sink, &mut r, "issuer"),
        note: text(sink, &mut r, "note"),
    };
    r.finish(sink);
    header
}

// TODO(merge): the framework's per-language text type replaces `Name` and this reader.
/// A string, or `{ zh, en }` with both keys.
fn text(sink: &mut Sink, r: &mut TableReader<'_, '_>, key: &str) -> Option<Name> {
    let v = r.get(key)?;
    match v.get_ref() {
        DeValue::String(s) => Some(Name {
            zh: s.to_string(),
            en: s.to_string(),
        }),
        DeValue::Table(t) => {
            let mut tr = TableReader::new(t, v.span(), format!("`{key}` in [report]"));
            let zh = tr.req_str(sink, "zh");
            let en = tr.req_str(sink, "en");
            tr.finish(sink);
            Some(Name {
                zh: zh?.value,
                en: en?.value,
            })
        }
        other => {
            sink.push(
                Diagnostic::error(
                    v.span(),
                    format!(
                        "`{key}` in [report] must be a string or a table like {{ zh = \"…\", en = \"…\" }}, not {}",
                        type_name(other)
                    ),
                )
                .with_label("expected text"),
            );
            None
        }
    }
}
