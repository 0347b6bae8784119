//! Indicator expressions: SQL expressions parsed with DataFusion's SQL parser, so that syntax
//! errors and column references are known before any data is read, and period lags
//! (`lag(x)`, `lag(x, k)`) can be rewritten into window functions over the unit's history.

use std::ops::{ControlFlow, Range};

use std::sync::LazyLock;

use datafusion::logical_expr::Volatility;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, Query,
    Select, SetExpr, Spanned, Statement, TableFactor, Value, Visit, Visitor, visit_expressions,
    visit_expressions_mut,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Span, Token, TokenWithSpan, Tokenizer};

use super::diag::did_you_mean;

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

/// Longest `expr`, `[rank] only` or method constant, in characters.
pub const MAX_EXPR_CHARS: usize = 10_000;
/// Longest source `query`, in characters.
pub const MAX_QUERY_CHARS: usize = 20_000;
/// Deepest nesting of parentheses.
pub const MAX_PARENS: usize = 32;
/// Deepest nesting of `CASE … END`. The SQL parser backtracks over a `CASE` it cannot finish,
/// and its time doubles with every open `CASE` (22 of them took 27 s), so an unfinished `CASE`
/// is refused before parsing and nesting is bounded.
pub const MAX_CASES: usize = 8;
/// Most dots in one qualified name (`catalog.schema.table.column`). The parser's time doubles
/// with every part of a longer one (`p.p.p.…`).
pub const MAX_NAME_DOTS: usize = 3;
/// Deepest nesting of operators, calls and values in one expression: a sum of `n` terms is
/// `n` levels deep, so a 500-term sum is the largest one.
pub const MAX_DEPTH: usize = 500;

/// Functions whose result changes from run to run or depends on the machine, refused in
/// expressions and queries (with every function DataFusion itself marks as not immutable).
pub const VOLATILE_FUNCTIONS: &[&str] = &[
    "random",
    "rand",
    "uuid",
    "gen_random_uuid",
    "now",
    "today",
    "current_date",
    "current_time",
    "current_timestamp",
    "localtime",
    "localtimestamp",
    "statement_timestamp",
    "transaction_timestamp",
    "clock_timestamp",
    "timeofday",
    "sysdate",
    "current_user",
    "current_role",
    "session_user",
    "user",
    "current_catalog",
    "current_schema",
    "current_database",
    "version",
    "input_file_name",
    "file_row_index",
];

/// Functions that return a set of rows instead of one value per row, refused everywhere.
pub const SET_RETURNING_FUNCTIONS: &[&str] = &["unnest", "generate_series", "range", "explode"];

/// Whether a function (lower-case name) is volatile: in [`VOLATILE_FUNCTIONS`] or marked
/// volatile or stable by DataFusion.
pub fn is_volatile(name: &str) -> bool {
    static DATAFUSION: LazyLock<Vec<String>> = LazyLock::new(|| {
        datafusion::functions::all_default_functions()
            .iter()
            .filter(|f| f.signature().volatility != Volatility::Immutable)
            .flat_map(|f| std::iter::once(f.name().to_string()).chain(f.aliases().iter().cloned()))
            .map(|n| n.to_lowercase())
            .collect()
    });
    VOLATILE_FUNCTIONS.contains(&name) || DATAFUSION.iter().any(|n| n == name)
}

/// Stack of the threads that parse, check and plan long SQL text. The parser's visitors and
/// DataFusion's planner recurse once or more per nesting level, with large frames in debug
/// builds; [`MAX_DEPTH`] levels need more than a main thread's 8 MiB.
pub const LARGE_STACK: usize = 256 << 20;

/// Runs `f` on a thread with a [`LARGE_STACK`] stack (or here, if no thread can be started).
pub fn with_large_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let mut slot = Some(f);
    let done = std::thread::scope(|s| {
        let spawned = std::thread::Builder::new()
            .stack_size(LARGE_STACK)
            .spawn_scoped(s, || slot.take().map(|f| f()));
        match spawned {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => None,
        }
    });
    match (done, slot.take()) {
        (Some(v), _) => v,
        (None, Some(f)) => f(),
        (None, None) => unreachable!("the thread either ran the function or was not started"),
    }
}

/// Runs `f` over `text` here when the text is short (so its nesting is shallow), else on a
/// thread with a large stack.
pub(super) fn deep<T: Send>(text: &str, f: impl FnOnce() -> T + Send) -> T {
    if text.len() <= 64 {
        f()
    } else {
        with_large_stack(f)
    }
}

/// The byte range of the one character at byte `o` of `text` (empty at the end): a range to
/// underline that never ends inside a multi-byte character.
fn char_at(text: &str, o: usize) -> Range<usize> {
    let o = o.min(text.len());
    o..o + text[o..].chars().next().map_or(0, char::len_utf8)
}

/// Byte range of a parser span inside `text` (the whole text when unknown).
fn span_range(text: &str, span: Span) -> Range<usize> {
    let start = offset_of(text, span.start.line, span.start.column);
    let end = offset_of(text, span.end.line, span.end.column);
    match (start, end) {
        (Some(s), Some(e)) if e > s => s..e,
        (Some(s), _) => char_at(text, s),
        _ => 0..text.len(),
    }
}

/// Checks length and parenthesis nesting of SQL text before it is parsed (the parser and
/// DataFusion recurse over what they read), and returns its tokens.
fn bounds(text: &str, max_chars: usize, what: &str) -> Result<Vec<TokenWithSpan>, ExprError> {
    if let Some((cut, _)) = text.char_indices().nth(max_chars) {
        let chars = text.chars().count();
        return Err(ExprError {
            message: format!(
                "the {what} is {chars} characters long; at most {max_chars} are allowed"
            ),
            range: char_at(text, cut),
        });
    }
    let tokens = Tokenizer::new(&GenericDialect {}, text)
        .tokenize_with_location()
        .map_err(|e| {
            let range = offset_of(text, e.location.line, e.location.column)
                .map_or(0..text.len(), |o| char_at(text, o));
            ExprError {
                message: format!("{what} syntax error: {}", e.message),
                range,
            }
        })?;
    let mut depth = 0usize;
    let mut cases: Vec<&TokenWithSpan> = Vec::new();
    // Dots of the qualified name being read (`a.b.c`: words joined by dots; white space
    // between them does not end it, another word or any other token does).
    let mut dots = 0usize;
    let mut after_dot = false;
    for t in &tokens {
        match &t.token {
            Token::Whitespace(_) => {}
            Token::Word(_) if after_dot => after_dot = false,
            Token::Word(_) => dots = 0,
            Token::Period => {
                after_dot = true;
                dots += 1;
                if dots > MAX_NAME_DOTS {
                    return Err(ExprError {
                        message: format!(
                            "a name in this {what} has more than {} parts joined by `.`",
                            MAX_NAME_DOTS + 1
                        ),
                        range: span_range(text, t.span),
                    });
                }
            }
            _ => {
                dots = 0;
                after_dot = false;
            }
        }
        match &t.token {
            Token::Word(w) if w.keyword == Keyword::CASE && w.quote_style.is_none() => {
                cases.push(t);
                if cases.len() > MAX_CASES {
                    return Err(ExprError {
                        message: format!(
                            "more than {MAX_CASES} CASE expressions are open at once in this {what} (each CASE needs its END)"
                        ),
                        range: span_range(text, t.span),
                    });
                }
            }
            Token::Word(w) if w.keyword == Keyword::END && w.quote_style.is_none() => {
                cases.pop();
            }
            Token::LParen => {
                depth += 1;
                if depth > MAX_PARENS {
                    return Err(ExprError {
                        message: format!(
                            "parentheses are nested more than {MAX_PARENS} deep in this {what}"
                        ),
                        range: span_range(text, t.span),
                    });
                }
            }
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if let Some(open) = cases.first() {
        return Err(ExprError {
            message: format!("{what} syntax error: this CASE has no END"),
            range: span_range(text, open.span),
        });
    }
    Ok(tokens)
}

pub(super) fn parse(text: &str) -> Result<Expr, ExprError> {
    bounds(text, MAX_EXPR_CHARS, "expression")?;
    let expr = parse_unchecked(text)?;
    let mut guard = Guard::new(text, Mode::Depth);
    if let ControlFlow::Break(e) = expr.visit(&mut guard) {
        return Err(e);
    }
    Ok(expr)
}

fn parse_unchecked(text: &str) -> Result<Expr, ExprError> {
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
        .map_or(0..text.len(), |o| char_at(text, o));
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

/// Parses an expression, checks that it is one scalar expression over columns that depends on
/// its inputs only (see `Guard`), and lists the columns it reads.
pub fn analyse(text: &str) -> Result<ExprInfo, ExprError> {
    deep(text, || analyse_here(text))
}

fn analyse_here(text: &str) -> Result<ExprInfo, ExprError> {
    if text.trim().is_empty() {
        return Err(ExprError {
            message: "the expression is empty".to_string(),
            range: 0..text.len(),
        });
    }
    let expr = parse(text)?;
    let mut guard = Guard::new(text, Mode::Expr);
    if let ControlFlow::Break(e) = expr.visit(&mut guard) {
        return Err(e);
    }
    if let Some(e) = guard.errors.into_iter().next() {
        return Err(e);
    }
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

/// Byte range of an AST node inside `text`, or the whole text when the parser gave none.
pub(super) fn range_of(text: &str, e: &Expr) -> Range<usize> {
    let span = e.span();
    let start = offset_of(text, span.start.line, span.start.column);
    let end = offset_of(text, span.end.line, span.end.column);
    let range = match (start, end) {
        (Some(s), Some(e)) if e > s => s..e,
        _ => return 0..text.len(),
    };
    // A call's span ends with its last argument: extend it to the matching `)`.
    if let Expr::Function(f) = e
        && !matches!(f.args, FunctionArguments::None)
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

/// What a [`Guard`] checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Nesting depth only.
    Depth,
    /// An indicator `expr` or `[rank] only`: one scalar expression.
    Expr,
    /// A source `query`: one read-only SELECT over the declared sources.
    Query,
}

/// Walks parsed SQL, bounding its depth and collecting what an expression or a query may
/// not contain: volatile and set-returning functions, subqueries in expressions, `lag` with a
/// bad offset, tables that are not declared sources, table functions, nested statements.
struct Guard<'t> {
    text: &'t str,
    mode: Mode,
    depth: usize,
    statements: usize,
    tables: Vec<String>,
    ctes: Vec<String>,
    errors: Vec<ExprError>,
}

impl<'t> Guard<'t> {
    fn new(text: &'t str, mode: Mode) -> Self {
        Self {
            text,
            mode,
            depth: 0,
            statements: 0,
            tables: Vec::new(),
            ctes: Vec::new(),
            errors: Vec::new(),
        }
    }

    fn push(&mut self, range: Range<usize>, message: String) {
        self.errors.push(ExprError { message, range });
    }

    fn function(&mut self, e: &Expr, f: &datafusion::sql::sqlparser::ast::Function) {
        let name = f
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| i.value.to_lowercase())
            .unwrap_or_default();
        let range = range_of(self.text, e);
        if is_volatile(&name) {
            self.push(
                range,
                format!(
                    "`{}` is not allowed: its result changes from run to run or with the machine, and kapok's results depend on their inputs only",
                    f.name
                ),
            );
        } else if SET_RETURNING_FUNCTIONS.contains(&name.as_str()) {
            self.push(
                range,
                format!(
                    "`{}` is not allowed: it returns a set of rows, not one value per row",
                    f.name
                ),
            );
        } else if name == "lag" && self.mode == Mode::Expr {
            self.lag(e, f);
        }
    }

    /// `lag(x)` or `lag(x, k)` with a whole number `k` from 1 to 1000.
    fn lag(&mut self, e: &Expr, f: &datafusion::sql::sqlparser::ast::Function) {
        let usage = "`lag` is written lag(column) or lag(column, k) with a whole number k ≥ 1";
        let args: Vec<&FunctionArg> = match &f.args {
            FunctionArguments::List(list) => list.args.iter().collect(),
            _ => Vec::new(),
        };
        if args.is_empty() || args.len() > 2 {
            self.push(range_of(self.text, e), usage.to_string());
            return;
        }
        let Some(k) = args.get(1) else {
            return;
        };
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(k)) = k else {
            self.push(range_of(self.text, e), usage.to_string());
            return;
        };
        let ok = match k {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => n.parse::<u32>().is_ok_and(|k| (1..=1000).contains(&k)),
                _ => false,
            },
            _ => false,
        };
        if !ok {
            self.push(
                range_of(self.text, k),
                format!(
                    "the offset of `lag` must be a whole number from 1 to 1000 (periods back), not `{k}`"
                ),
            );
        }
    }

    /// Division by a literal zero, and integer division of two literals (`1/2` is 0 in SQL).
    fn division(&mut self, e: &Expr, op: &BinaryOperator, left: &Expr, right: &Expr) {
        let number = |x: &Expr| match x {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => Some(n.clone()),
                _ => None,
            },
            _ => None,
        };
        let Some(r) = number(right) else {
            return;
        };
        if r.parse::<f64>().is_ok_and(|r| r == 0.0) {
            self.push(range_of(self.text, e), format!("`{e}` divides by zero"));
        } else if *op == BinaryOperator::Divide
            && let Some(l) = number(left)
            && !l.contains(['.', 'e', 'E'])
            && !r.contains(['.', 'e', 'E'])
        {
            self.push(
                range_of(self.text, e),
                format!(
                    "`{e}` divides two whole numbers, which SQL rounds down to a whole number; write {l}.0 / {r} for the fraction"
                ),
            );
        }
    }

    fn table_factor(&mut self, t: &TableFactor) {
        let range = span_range(self.text, t.span());
        match t {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => self.push(
                range,
                format!(
                    "`{name}(…)` is a table function; a query reads only the declared sources, by name"
                ),
            ),
            TableFactor::Table {
                name, args: None, ..
            } => self.table_name(name, range),
            TableFactor::Derived { .. }
            | TableFactor::NestedJoin { .. }
            | TableFactor::Pivot { .. }
            | TableFactor::Unpivot { .. } => {}
            other => self.push(
                range,
                format!(
                    "`{other}` is not allowed in FROM; a query reads only the declared sources, by name"
                ),
            ),
        }
    }

    fn table_name(&mut self, name: &ObjectName, range: Range<usize>) {
        let known: Vec<&str> = self
            .tables
            .iter()
            .chain(&self.ctes)
            .map(String::as_str)
            .collect();
        let single = match name.0.as_slice() {
            [part] => part.as_ident().map(|i| i.value.as_str()),
            _ => None,
        };
        if let Some(n) = single
            && known.iter().any(|k| *k == n || k.eq_ignore_ascii_case(n))
        {
            return;
        }
        let shown = name.to_string();
        let hint = did_you_mean(single.unwrap_or(&shown), known.iter().copied())
            .map(|h| format!(" ({h})"))
            .unwrap_or_default();
        self.push(
            range,
            format!(
                "unknown table `{shown}`{hint}: a query reads only the declared sources ({})",
                self.tables
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
}

impl Visitor for Guard<'_> {
    type Break = ExprError;

    fn pre_visit_expr(&mut self, e: &Expr) -> ControlFlow<ExprError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return ControlFlow::Break(ExprError {
                message: format!(
                    "the expression is nested more than {MAX_DEPTH} levels deep (each operator, call and value is a level; a sum of {MAX_DEPTH} terms is the most); split it into several indicators or a source `query`"
                ),
                range: range_of(self.text, e),
            });
        }
        if self.mode == Mode::Depth {
            return ControlFlow::Continue(());
        }
        match e {
            Expr::Function(f) => self.function(e, f),
            Expr::BinaryOp {
                left,
                op: op @ (BinaryOperator::Divide | BinaryOperator::Modulo),
                right,
            } if self.mode == Mode::Expr => self.division(e, op, left, right),
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _e: &Expr) -> ControlFlow<ExprError> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }

    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<ExprError> {
        match self.mode {
            Mode::Depth => {}
            Mode::Expr => self.push(
                span_range(self.text, q.span()),
                "a subquery is not allowed in an expression: it is one value computed from the columns of its own unit and period".to_string(),
            ),
            Mode::Query => {
                if let Some(with) = &q.with {
                    self.ctes
                        .extend(with.cte_tables.iter().map(|c| c.alias.name.value.clone()));
                }
            }
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_select(&mut self, s: &Select) -> ControlFlow<ExprError> {
        if self.mode == Mode::Query && s.into.is_some() {
            self.push(
                span_range(self.text, s.span()),
                "`SELECT … INTO` creates a table; a query only reads".to_string(),
            );
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_statement(&mut self, st: &Statement) -> ControlFlow<ExprError> {
        self.statements += 1;
        if self.statements > 1 {
            let kind = st.to_string();
            let kind = kind.split_whitespace().next().unwrap_or("");
            self.push(
                span_range(self.text, st.span()),
                format!("`{kind}` is not allowed inside a query; a query only reads"),
            );
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_table_factor(&mut self, t: &TableFactor) -> ControlFlow<ExprError> {
        if self.mode == Mode::Query {
            self.table_factor(t);
        }
        ControlFlow::Continue(())
    }
}

/// Checks a source `query`: exactly one read-only `SELECT` (with optional `WITH`) over the
/// declared sources `tables` and its own `WITH` names, without table functions, volatile or
/// set-returning functions, within the length and nesting limits. Returns every problem found,
/// each with its range in `text`.
pub fn check_query(text: &str, tables: &[&str]) -> Vec<ExprError> {
    deep(text, || check_query_here(text, tables))
}

fn check_query_here(text: &str, tables: &[&str]) -> Vec<ExprError> {
    let whole = 0..text.len();
    let tokens = match bounds(text, MAX_QUERY_CHARS, "query") {
        Ok(t) => t,
        Err(e) => return vec![e],
    };
    let mut words = tokens
        .iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_)));
    let rule =
        "a source query is one read-only SELECT (optionally with WITH) over the declared sources";
    match words.next() {
        None => {
            return vec![ExprError {
                message: "the query is empty".to_string(),
                range: whole,
            }];
        }
        Some(t) => match &t.token {
            Token::Word(w) if matches!(w.keyword, Keyword::SELECT | Keyword::WITH) => {}
            Token::LParen => {}
            other => {
                return vec![ExprError {
                    message: format!("`{other}` is not allowed: {rule}"),
                    range: span_range(text, t.span),
                }];
            }
        },
    }
    let mut after_semicolon = false;
    for t in words {
        if after_semicolon {
            return vec![ExprError {
                message: format!("a second statement starts here: {rule}"),
                range: span_range(text, t.span),
            }];
        }
        after_semicolon = t.token == Token::SemiColon;
    }
    let statements = match Parser::new(&GenericDialect {})
        .try_with_sql(text)
        .and_then(|mut p| p.parse_statements())
    {
        Ok(s) => s,
        Err(e) => {
            let mut e = parser_error(text, e);
            e.message = e
                .message
                .replacen("expression syntax error", "query syntax error", 1);
            return vec![e];
        }
    };
    let [statement] = statements.as_slice() else {
        return vec![ExprError {
            message: format!("{} statements: {rule}", statements.len()),
            range: whole,
        }];
    };
    if !matches!(statement, Statement::Query(_)) {
        let kind = statement.to_string();
        let kind = kind.split_whitespace().next().unwrap_or("");
        return vec![ExprError {
            message: format!("`{kind}` is not allowed: {rule}"),
            range: whole,
        }];
    }
    let mut guard = Guard::new(text, Mode::Query);
    guard.tables = tables.iter().map(|t| t.to_string()).collect();
    if let ControlFlow::Break(e) = statement.visit(&mut guard) {
        return vec![e];
    }
    if let Statement::Query(q) = statement
        && !matches!(
            *q.body,
            SetExpr::Select(_) | SetExpr::Query(_) | SetExpr::SetOperation { .. }
        )
    {
        guard.push(whole, format!("this is not a SELECT: {rule}"));
    }
    guard.errors
}

/// Rewrites `lag(x[, k])` without an `OVER` clause into a window over the unit's periods, and
/// returns SQL text for DataFusion.
pub fn to_sql(text: &str, unit: &str, period: Option<&str>) -> Result<String, ExprError> {
    deep(text, || to_sql_here(text, unit, period))
}

fn to_sql_here(text: &str, unit: &str, period: Option<&str>) -> Result<String, ExprError> {
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

/// How [`rescale_lags`] maps a lag's offset: `(k, the call as written, its range)` → new `k`.
pub type LagScale<'a> = dyn Fn(u64, &str, Range<usize>) -> Result<u64, ExprError> + Sync + 'a;

/// Rewrites the offset of every `lag(x[, k])` (an omitted `k` is 1) through `scale`, which gets
/// `k`, the call as written and its byte range in `text`, and returns the new offset or an
/// error. A rollup uses it to count a lag written in the data's periods (months) in the
/// published ones (quarters). Returns the rewritten expression text.
pub fn rescale_lags(text: &str, scale: &LagScale<'_>) -> Result<String, ExprError> {
    deep(text, || {
        let mut expr = parse(text)?;
        let mut err = None;
        let _ = visit_expressions_mut(&mut expr, |e| {
            let range = range_of(text, e);
            if let Expr::Function(f) = e
                && f.name.to_string().eq_ignore_ascii_case("lag")
                && f.over.is_none()
                && let FunctionArguments::List(list) = &mut f.args
            {
                let k = match list.args.get(1) {
                    None => Some(1),
                    Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))) => {
                        match &v.value {
                            Value::Number(n, _) => n.parse::<u64>().ok(),
                            _ => None,
                        }
                    }
                    Some(_) => None,
                };
                let Some(k) = k else {
                    return ControlFlow::Continue(());
                };
                let written = text.get(range.clone()).unwrap_or(text).to_string();
                match scale(k, &written, range).and_then(|n| parse_unchecked(&n.to_string())) {
                    Ok(n) => {
                        let arg = FunctionArg::Unnamed(FunctionArgExpr::Expr(n));
                        if list.args.len() > 1 {
                            list.args[1] = arg;
                        } else {
                            list.args.push(arg);
                        }
                    }
                    Err(e) => {
                        err = Some(e);
                        return ControlFlow::Break(());
                    }
                }
            }
            ControlFlow::Continue(())
        });
        match err {
            Some(e) => Err(e),
            None => Ok(expr.to_string()),
        }
    })
}

/// Quotes an identifier for SQL text (`"name"`, inner quotes doubled).
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::formula::constant;

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
    fn lags_are_rescaled() {
        let thirds = |k: u64, _: &str, r: Range<usize>| {
            if k.is_multiple_of(3) {
                Ok(k / 3)
            } else {
                Err(ExprError {
                    message: format!("{k}"),
                    range: r,
                })
            }
        };
        assert_eq!(
            rescale_lags("x / nullif(lag(x, 12), 0)", &thirds).unwrap(),
            "x / nullif(lag(x, 4), 0)"
        );
        let e = rescale_lags("x - lag(x)", &thirds).unwrap_err();
        assert_eq!(e.message, "1");
        assert_eq!(&"x - lag(x)"[e.range], "lag(x)");
        let e = rescale_lags("x - lag(x, 2)", &thirds).unwrap_err();
        assert_eq!(&"x - lag(x, 2)"[e.range], "lag(x, 2)");
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

    /// The first problem of a query over the sources `d` and `e`.
    fn query_error(q: &str) -> ExprError {
        let errs = check_query(q, &["d", "e"]);
        assert!(!errs.is_empty(), "`{q}` was accepted");
        errs[0].clone()
    }

    #[test]
    fn read_only_selects_over_declared_sources_pass() {
        for q in [
            "SELECT * FROM d",
            "select code, x AS y FROM D JOIN e ON d.code = e.code",
            "WITH t AS (SELECT code, SUM(x) AS x FROM d GROUP BY code) SELECT * FROM t",
            "SELECT * FROM (SELECT * FROM d) s WHERE x IN (SELECT x FROM e)",
            "SELECT code, lag(x, 1) OVER (PARTITION BY code ORDER BY month) AS x FROM d;",
            "(SELECT * FROM d) UNION ALL (SELECT * FROM e)",
        ] {
            assert_eq!(check_query(q, &["d", "e"]), vec![], "{q}");
        }
    }

    #[test]
    fn every_writing_or_session_statement_is_refused_at_its_keyword() {
        for (q, word) in [
            ("COPY (SELECT * FROM d) TO 'd.csv'", "COPY"),
            ("COPY d TO '/tmp/out.csv'", "COPY"),
            (
                "CREATE EXTERNAL TABLE t STORED AS PARQUET LOCATION 'x.parquet'",
                "CREATE",
            ),
            ("CREATE TABLE t AS SELECT * FROM d", "CREATE"),
            ("CREATE VIEW v AS SELECT * FROM d", "CREATE"),
            ("DROP TABLE d", "DROP"),
            ("ALTER TABLE d RENAME TO e", "ALTER"),
            ("INSERT INTO d VALUES (1)", "INSERT"),
            ("UPDATE d SET x = 1", "UPDATE"),
            ("DELETE FROM d", "DELETE"),
            ("SET datafusion.execution.batch_size = 1", "SET"),
            ("EXPLAIN SELECT * FROM d", "EXPLAIN"),
            ("  -- comment\n  TRUNCATE d", "TRUNCATE"),
        ] {
            let e = query_error(q);
            assert!(
                e.message.contains(&format!("`{word}` is not allowed")),
                "{q}: {}",
                e.message
            );
            assert_eq!(&q[e.range.clone()], word, "{q}");
        }
    }

    #[test]
    fn a_second_statement_is_refused_where_it_starts() {
        let q = "SELECT * FROM d; COPY d TO 'x.csv'";
        let e = query_error(q);
        assert!(e.message.contains("second statement"), "{}", e.message);
        assert_eq!(e.range.start, q.find("COPY").unwrap());
    }

    #[test]
    fn table_functions_and_unknown_tables_are_refused() {
        let q = "SELECT * FROM read_parquet('secret.parquet')";
        let e = query_error(q);
        assert!(e.message.contains("table function"), "{}", e.message);
        assert_eq!(e.range.start, q.find("read_parquet").unwrap());
        let e = query_error("SELECT * FROM generate_series(1, 10)");
        assert!(e.message.contains("table function"), "{}", e.message);
        let q = "SELECT * FROM dd";
        let e = query_error(q);
        assert!(
            e.message.contains("unknown table `dd` (did you mean `d`?)"),
            "{}",
            e.message
        );
        assert_eq!(&q[e.range.clone()], "dd");
        let e = query_error("SELECT * FROM 'secret.parquet'");
        assert!(e.message.contains("unknown table"), "{}", e.message);
        let e = query_error("SELECT * FROM information_schema.tables");
        assert!(e.message.contains("unknown table"), "{}", e.message);
        let e = query_error("SELECT * FROM d WHERE x IN (SELECT x FROM other)");
        assert!(e.message.contains("unknown table `other`"), "{}", e.message);
        let e = query_error("SELECT * INTO t FROM d");
        assert!(e.message.contains("INTO"), "{}", e.message);
        let e = query_error("SELECT * FROM UNNEST([1, 2])");
        assert!(e.message.contains("not allowed in FROM"), "{}", e.message);
    }

    #[test]
    fn volatile_and_set_returning_functions_are_refused() {
        for f in [
            "random()",
            "now()",
            "uuid()",
            "current_date",
            "current_timestamp",
            "version()",
        ] {
            let q = format!("SELECT code, {f} AS r FROM d");
            let e = query_error(&q);
            assert!(
                e.message.contains("changes from run to run"),
                "{f}: {}",
                e.message
            );
            assert_eq!(e.range.start, q.find(f).unwrap(), "{f}");
            let e = analyse(&format!("x + {f}")).unwrap_err();
            assert!(
                e.message.contains("changes from run to run"),
                "{f}: {}",
                e.message
            );
            assert_eq!(e.range.start, 4, "{f}");
        }
        let e = analyse("to_timestamp(now())").unwrap_err();
        assert_eq!(e.range, 13..18);
        for f in [
            "unnest(make_array(x))",
            "generate_series(1, 3)",
            "range(1, 3)",
        ] {
            let e = analyse(f).unwrap_err();
            assert!(e.message.contains("set of rows"), "{f}: {}", e.message);
            let e = query_error(&format!("SELECT {f} FROM d"));
            assert!(e.message.contains("set of rows"), "{f}: {}", e.message);
        }
    }

    #[test]
    fn lag_needs_a_whole_offset_of_at_least_one() {
        assert!(analyse("lag(x)").unwrap().uses_lag);
        assert!(analyse("x - lag(x, 12)").is_ok());
        for (text, bad) in [
            ("lag(x, 'a')", "'a'"),
            ("lag(x, 0)", "0"),
            ("lag(x, 1.5)", "1.5"),
            ("lag(x, y)", "y"),
            ("lag(x, 1001)", "1001"),
        ] {
            let e = analyse(text).unwrap_err();
            assert!(
                e.message.contains("whole number from 1 to 1000"),
                "{text}: {}",
                e.message
            );
            assert_eq!(&text[e.range.clone()], bad, "{text}");
        }
        let e = analyse("lag(x, -1)").unwrap_err();
        assert!(e.message.contains("not `-1`"), "{}", e.message);
        let e = analyse("lag(x, 1, 0)").unwrap_err();
        assert!(e.message.contains("lag(column, k)"), "{}", e.message);
        assert!(analyse("lag()").is_err());
    }

    #[test]
    fn expressions_are_one_scalar_without_subqueries_or_literal_zero_division() {
        let e = analyse("x / (SELECT max(x) FROM d)").unwrap_err();
        assert!(e.message.contains("subquery"), "{}", e.message);
        let e = analyse("x / 0").unwrap_err();
        assert!(e.message.contains("divides by zero"), "{}", e.message);
        assert_eq!(e.range, 0..5);
        let e = analyse("x % 0.0").unwrap_err();
        assert!(e.message.contains("divides by zero"), "{}", e.message);
        let e = analyse("x * (1/2)").unwrap_err();
        assert!(e.message.contains("two whole numbers"), "{}", e.message);
        assert_eq!(e.range, 5..8);
        assert!(analyse("x * (1.0/2)").is_ok());
        assert!(analyse("x / 2").is_ok());
        assert_eq!(analyse("").unwrap_err().message, "the expression is empty");
        assert_eq!(
            analyse("  ").unwrap_err().message,
            "the expression is empty"
        );
    }

    #[test]
    fn long_dotted_names_are_refused_before_parsing() {
        // Each part of `p.p.p.…` doubled the parser's time.
        let text = format!("2 * (1 + {}p", "p.".repeat(22));
        let e = constant(&text).unwrap_err();
        assert!(e.message.contains("more than 4 parts"), "{}", e.message);
        assert_eq!(e.range, 16..17);
        let q = "SELECT s.a, c.s.t.a FROM s WHERE s.a IS NULL AND s.b IS NULL AND s.c IS NULL AND s.d IS NULL AND s . e IS NULL";
        assert!(
            check_query(q, &["s"])
                .iter()
                .all(|e| !e.message.contains("parts"))
        );
        let e = constant("1 + a . b . c . d . e").unwrap_err();
        assert!(e.message.contains("more than 4 parts"), "{}", e.message);
    }

    #[test]
    fn an_unfinished_case_is_refused_before_parsing() {
        // Each open CASE doubled the parser's time: 22 of them took 27 s.
        let text = format!("x + {}x", "case+ ".repeat(22));
        let e = analyse(&text).unwrap_err();
        assert!(e.message.contains("more than 8 CASE"), "{}", e.message);
        assert_eq!(&text[e.range.clone()], "case");
        assert_eq!(e.range.start, 4 + 8 * 6);
        let e = analyse("x + case when x > 1 then 1 end + case x").unwrap_err();
        assert!(e.message.contains("this CASE has no END"), "{}", e.message);
        assert_eq!(e.range, 33..37);
        assert!(
            analyse("case when x > 1 then case when x > 2 then 2 else 1 end else 0 end").is_ok()
        );
    }

    #[test]
    fn size_and_nesting_are_bounded_before_parsing() {
        let sum = |n: usize| vec!["x"; n].join(" + ");
        assert_eq!(analyse(&sum(400)).unwrap().columns.len(), 400);
        assert_eq!(analyse(&sum(MAX_DEPTH)).unwrap().columns.len(), MAX_DEPTH);
        let e = analyse(&sum(MAX_DEPTH + 1)).unwrap_err();
        assert!(
            e.message.contains("nested more than 500 levels"),
            "{}",
            e.message
        );
        let e = analyse(&sum(100_000)).unwrap_err();
        assert!(
            e.message.contains("characters long; at most 10000"),
            "{}",
            e.message
        );
        assert_eq!(e.range.start, MAX_EXPR_CHARS);
        let deep = format!("{}x{}", "(".repeat(40), ")".repeat(40));
        let e = analyse(&deep).unwrap_err();
        assert!(
            e.message.contains("parentheses are nested more than 32"),
            "{}",
            e.message
        );
        assert_eq!(e.range, 32..33);
        let e = constant(&format!("{}1{}", "(".repeat(40), ")".repeat(40))).unwrap_err();
        assert!(e.message.contains("parentheses"), "{}", e.message);
        let long = format!("SELECT {} AS y FROM d", sum(6000));
        let e = query_error(&long);
        assert!(e.message.contains("at most 20000"), "{}", e.message);
        let q = format!("SELECT {} AS y FROM d", sum(MAX_DEPTH + 1));
        let e = query_error(&q);
        assert!(e.message.contains("nested more than"), "{}", e.message);
        assert_eq!(
            check_query(&format!("SELECT {} AS y FROM d", sum(400)), &["d"]),
            vec![]
        );
    }
}
