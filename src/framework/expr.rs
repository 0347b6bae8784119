//! Indicator expressions: SQL expressions parsed with DataFusion's SQL parser, so that syntax
//! errors and column references are known before any data is read, and period lags
//! (`lag(x)`, `lag(x, k)`) can be rewritten into window functions over the unit's history.

use std::ops::{ControlFlow, Range};

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Spanned, UnaryOperator,
    Value, visit_expressions, visit_expressions_mut,
};
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

/// Functions a constant expression may call, with their number of arguments.
pub const CONSTANT_FUNCTIONS: &[(&str, usize)] = &[
    ("ln", 1),
    ("log10", 1),
    ("exp", 1),
    ("sqrt", 1),
    ("power", 2),
];

/// Evaluates a constant expression such as `ln(75000)` or `-1/3` (a method parameter written
/// as a string): numbers, unary `+`/`-`, `+ - * /`, parentheses and the functions in
/// [`CONSTANT_FUNCTIONS`]. Anything else — a column, another function or operator, a result
/// that is not a finite number (`ln(0)`, `1/0`) — is an error with its range in `text`.
pub fn constant(text: &str) -> Result<f64, ExprError> {
    let expr = parse(text)?;
    eval_constant(text, &expr)
}

/// Byte range of an AST node inside `text`, or the whole text when the parser gave none.
fn range_of(text: &str, e: &Expr) -> Range<usize> {
    let span = e.span();
    let start = offset_of(text, span.start.line, span.start.column);
    let end = offset_of(text, span.end.line, span.end.column);
    let range = match (start, end) {
        (Some(s), Some(e)) if e > s => s..e,
        _ => return 0..text.len(),
    };
    // A call's span ends with its last argument: extend it to the matching `)`.
    if let Expr::Function(_) = e
        && let Some(open) = text[range.start..].find('(')
    {
        let mut depth = 0usize;
        for (i, c) in text[range.start + open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 1 => return range.start..range.start + open + i + 1,
                ')' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }
    range
}

fn eval_constant(text: &str, e: &Expr) -> Result<f64, ExprError> {
    let fail = |message: String| ExprError {
        message,
        range: range_of(text, e),
    };
    let finite = |v: f64, what: &str| {
        if v.is_finite() {
            Ok(v)
        } else {
            Err(fail(format!("{what} is not a finite number")))
        }
    };
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n
                .to_string()
                .parse::<f64>()
                .map_err(|_| fail(format!("`{n}` is not a number"))),
            other => Err(fail(format!("`{other}` is not a number"))),
        },
        Expr::Nested(inner) => eval_constant(text, inner),
        Expr::UnaryOp { op, expr } => {
            let v = eval_constant(text, expr)?;
            match op {
                UnaryOperator::Minus => Ok(-v),
                UnaryOperator::Plus => Ok(v),
                other => Err(fail(format!(
                    "operator `{other}` is not allowed in a constant (use + - * / and parentheses)"
                ))),
            }
        }
        Expr::BinaryOp { left, op, right } => {
            let (a, b) = (eval_constant(text, left)?, eval_constant(text, right)?);
            let v = match op {
                BinaryOperator::Plus => a + b,
                BinaryOperator::Minus => a - b,
                BinaryOperator::Multiply => a * b,
                BinaryOperator::Divide if b == 0.0 => {
                    return Err(fail("division by zero".to_string()));
                }
                BinaryOperator::Divide => a / b,
                other => {
                    return Err(fail(format!(
                        "operator `{other}` is not allowed in a constant (use + - * / and parentheses, power(x, y) for powers)"
                    )));
                }
            };
            finite(v, "the result")
        }
        Expr::Function(f) => {
            let name = f.name.to_string().to_lowercase();
            let known = || {
                CONSTANT_FUNCTIONS
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let Some(&(_, arity)) = CONSTANT_FUNCTIONS.iter().find(|(n, _)| *n == name) else {
                return Err(fail(format!(
                    "function `{}` is not allowed in a constant (known: {})",
                    f.name,
                    known()
                )));
            };
            let args: Vec<&Expr> = match &f.args {
                FunctionArguments::List(list)
                    if list.duplicate_treatment.is_none()
                        && list.clauses.is_empty()
                        && f.over.is_none()
                        && f.filter.is_none() =>
                {
                    list.args
                        .iter()
                        .map(|a| match a {
                            FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Ok(x),
                            _ => Err(fail(format!("`{name}` takes plain numbers"))),
                        })
                        .collect::<Result<_, _>>()?
                }
                _ => return Err(fail(format!("`{name}` must be called as {name}(…)"))),
            };
            if args.len() != arity {
                return Err(fail(format!(
                    "`{name}` takes {arity} argument{}, not {}",
                    if arity == 1 { "" } else { "s" },
                    args.len()
                )));
            }
            let x: Vec<f64> = args
                .iter()
                .map(|a| eval_constant(text, a))
                .collect::<Result<_, _>>()?;
            let v = match name.as_str() {
                "ln" => x[0].ln(),
                "log10" => x[0].log10(),
                "exp" => x[0].exp(),
                "sqrt" => x[0].sqrt(),
                _ => x[0].powf(x[1]),
            };
            finite(v, &format!("`{}`", &text[range_of(text, e)]))
        }
        Expr::Identifier(ident) => Err(fail(format!(
            "`{}`: a constant cannot refer to a column or name",
            ident.value
        ))),
        _ => Err(fail(
            "not a constant: use numbers, + - * /, parentheses, ln, log10, exp, sqrt, power"
                .to_string(),
        )),
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

    #[test]
    fn constants_by_hand() {
        let c = |t: &str| constant(t).unwrap();
        assert_eq!(c("42"), 42.0);
        assert_eq!(c("-2.5"), -2.5);
        assert_eq!(c("+3"), 3.0);
        assert_eq!(c("1 + 2 * 3"), 7.0);
        assert_eq!(c("(1 + 2) * 3"), 9.0);
        assert_eq!(c("10 - 4 - 3"), 3.0);
        assert_eq!(c("1 / 4"), 0.25);
        assert_eq!(c("-(2 - 5)"), 3.0);
        assert_eq!(c("power(2, 10)"), 1024.0);
        assert_eq!(c("sqrt(16)"), 4.0);
        assert_eq!(c("log10(1000)"), 3.0);
        assert_eq!(c("ln(1)"), 0.0);
        assert_eq!(c("exp(0)"), 1.0);
        assert_eq!(c("LN(exp(2))"), 2.0);
        // ln(100) = 2 ln(10) = 4.605170185988092 (to f64 precision)
        assert!((c("ln(100)") - 4.605_170_185_988_092).abs() < 1e-15);
        assert!((c("ln(75000)") - 11.225_243_392_518_447).abs() < 1e-14);
        assert!((c("1e3") - 1000.0).abs() < 1e-12);
    }

    #[test]
    fn constant_errors_name_the_offending_part() {
        let e = |t: &str| constant(t).unwrap_err();
        let err = e("ln(gnipc)");
        assert!(
            err.message.contains("cannot refer to a column"),
            "{}",
            err.message
        );
        assert_eq!(err.range, 3..8);
        let err = e("1 + log2(8)");
        assert!(
            err.message.contains("`log2` is not allowed"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("ln, log10, exp, sqrt, power"),
            "{}",
            err.message
        );
        assert_eq!(err.range.start, 4);
        let err = e("2 % 3");
        assert!(err.message.contains("operator `%`"), "{}", err.message);
        let err = e("1 / (2 - 2)");
        assert!(err.message.contains("division by zero"), "{}", err.message);
        let err = e("2 * ln(0)");
        assert!(
            err.message.contains("`ln(0)` is not a finite number"),
            "{}",
            err.message
        );
        assert_eq!(err.range, 4..9);
        let err = e("sqrt(-1)");
        assert!(
            err.message.contains("not a finite number"),
            "{}",
            err.message
        );
        let err = e("power(2, ln(0 * 3))");
        assert_eq!(err.range, 9..18);
        let err = e("power(2)");
        assert!(
            err.message.contains("takes 2 arguments, not 1"),
            "{}",
            err.message
        );
        let err = e("'abc'");
        assert!(err.message.contains("is not a number"), "{}", err.message);
        let err = e("ln(");
        assert!(err.message.contains("syntax error"), "{}", err.message);
        let err = e("1 2");
        assert!(err.message.contains("unexpected"), "{}", err.message);
        let err = e("CASE WHEN 1 THEN 2 END");
        assert!(err.message.contains("not a constant"), "{}", err.message);
    }
}
