//! Indicator expressions: SQL expressions parsed with DataFusion's SQL parser, so that syntax
//! errors and column references are known before any data is read, and period lags
//! (`lag(x)`, `lag(x, k)`) can be rewritten into window functions over the unit's history.

use std::ops::{ControlFlow, Range};

use datafusion::sql::sqlparser::ast::{Expr, visit_expressions, visit_expressions_mut};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

/// A column referenced by an expression, with its byte range inside the expression text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnRef {
    /// Column name as DataFusion resolves it (unquoted names are lower-cased).
    pub name: String,
    /// Byte range inside the expression text.
    pub range: Range<usize>,
}

/// What an expression needs from the data.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExprInfo {
    /// Referenced columns, in order of appearance.
    pub columns: Vec<ColumnRef>,
    /// Whether it uses `lag(...)`.
    pub uses_lag: bool,
}

/// A problem in an expression, with its byte range inside the expression text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExprError {
    /// What is wrong.
    pub message: String,
    /// Where, inside the expression text.
    pub range: Range<usize>,
}

fn parse(text: &str) -> Result<Expr, ExprError> {
    let dialect = GenericDialect {};
    let whole = 0..text.len();
    let mut parser = Parser::new(&dialect)
        .try_with_sql(text)
        .map_err(|e| parser_error(text, e))?;
    let expr = parser.parse_expr().map_err(|e| parser_error(text, e))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        let at = offset_of(text, next.span.start.line, next.span.start.column);
        return Err(ExprError {
            message: format!(
                "unexpected `{}` after the end of the expression",
                next.token
            ),
            range: at.map_or(whole, |a| a..text.len()),
        });
    }
    Ok(expr)
}

fn parser_error(text: &str, e: ParserError) -> ExprError {
    let msg = e.to_string();
    let msg = msg
        .strip_prefix("sql parser error: ")
        .unwrap_or(&msg)
        .to_string();
    // Messages end with "at Line: L, Column: C" when the position is known.
    let range = msg
        .rsplit_once(" at Line: ")
        .and_then(|(_, pos)| {
            let (l, c) = pos.split_once(", Column: ")?;
            let l: u64 = l.trim().parse().ok()?;
            let c: u64 = c.trim().parse().ok()?;
            offset_of(text, l, c)
        })
        .map_or(0..text.len(), |o| o..(o + 1).min(text.len()).max(o));
    let message = msg
        .rsplit_once(" at Line: ")
        .map_or(msg.clone(), |(m, _)| m.to_string());
    ExprError {
        message: format!("expression syntax error: {message}"),
        range,
    }
}

/// Byte offset of a one-based (line, column-in-characters) position.
fn offset_of(text: &str, line: u64, column: u64) -> Option<usize> {
    if line == 0 || column == 0 {
        return None;
    }
    let mut start = 0usize;
    for _ in 1..line {
        start += text[start..].find('\n')? + 1;
    }
    let rest = &text[start..];
    let col = (column - 1) as usize;
    Some(start + rest.char_indices().nth(col).map_or(rest.len(), |(i, _)| i))
}

/// Parses an expression and lists the columns it reads.
pub fn analyse(text: &str) -> Result<ExprInfo, ExprError> {
    let expr = parse(text)?;
    let mut info = ExprInfo::default();
    let mut problem = None;
    let _ = visit_expressions(&expr, |e| {
        match e {
            Expr::Identifier(ident) => {
                let name = if ident.quote_style.is_some() {
                    ident.value.clone()
                } else {
                    ident.value.to_lowercase()
                };
                let start = offset_of(text, ident.span.start.line, ident.span.start.column);
                let end = offset_of(text, ident.span.end.line, ident.span.end.column);
                let range = match (start, end) {
                    (Some(s), Some(e)) if e > s => s..e,
                    (Some(s), _) => s..s + ident.value.len(),
                    _ => 0..text.len(),
                };
                info.columns.push(ColumnRef { name, range });
            }
            Expr::CompoundIdentifier(parts) if problem.is_none() => {
                let s = parts
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                problem = Some(ExprError {
                    message: format!(
                        "`{s}`: qualified names are not supported, sources are joined into one table; write the column name alone"
                    ),
                    range: text.find(&s).map_or(0..text.len(), |i| i..i + s.len()),
                });
            }
            Expr::Function(f) if f.name.to_string().eq_ignore_ascii_case("lag") => {
                info.uses_lag = true;
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
    match problem {
        Some(p) => Err(p),
        None => Ok(info),
    }
}

/// Rewrites `lag(x[, k])` without an `OVER` clause into a window over the unit's periods, and
/// returns SQL text for DataFusion.
pub fn to_sql(text: &str, unit: &str, period: Option<&str>) -> Result<String, ExprError> {
    let mut expr = parse(text)?;
    if let Some(period) = period {
        let template = parse(&format!(
            "lag(x) OVER (PARTITION BY {} ORDER BY {})",
            quote_ident(unit),
            quote_ident(period)
        ))?;
        let Expr::Function(t) = template else {
            unreachable!("the lag template parses as a function call")
        };
        let _ = visit_expressions_mut(&mut expr, |e| {
            if let Expr::Function(f) = e
                && f.name.to_string().eq_ignore_ascii_case("lag")
                && f.over.is_none()
            {
                f.over = t.over.clone();
            }
            ControlFlow::<()>::Continue(())
        });
    }
    Ok(expr.to_string())
}

/// Quotes an identifier for SQL text (`"name"`, inner quotes doubled).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_and_positions() {
        let text = "theft_cases / Population * 10000";
        let info = analyse(text).unwrap();
        let names: Vec<_> = info.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["theft_cases", "population"]);
        assert_eq!(&text[info.columns[1].range.clone()], "Population");
        assert!(!info.uses_lag);
    }

    #[test]
    fn quoted_names_keep_case_and_functions_are_not_columns() {
        let info = analyse("ln(\"医疗机构数\") + greatest(a, 1)").unwrap();
        let names: Vec<_> = info.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["医疗机构数", "a"]);
    }

    #[test]
    fn syntax_error_has_position() {
        let err = analyse("a + * b").unwrap_err();
        assert!(err.message.contains("syntax error"), "{}", err.message);
        assert_eq!(err.range.start, 4);
        let err = analyse("a b").unwrap_err();
        assert!(err.message.contains("unexpected"), "{}", err.message);
    }

    #[test]
    fn lag_is_rewritten_into_a_window() {
        let info = analyse("x / nullif(lag(x, 2), 0)").unwrap();
        assert!(info.uses_lag);
        let sql = to_sql("x / nullif(lag(x, 2), 0)", "code", Some("month")).unwrap();
        assert_eq!(
            sql,
            "x / nullif(lag(x, 2) OVER (PARTITION BY \"code\" ORDER BY \"month\"), 0)"
        );
    }
}
