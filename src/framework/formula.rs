//! Arithmetic formulas: the constants of method parameters (`min = "ln(100)"`) and the node
//! formulas of dimensions and the index (`formula = "hdi_f / hdi_m"`), one language for both.
//!
//! A formula is numbers, names (a node formula's children; none in a constant), unary `+`/`-`,
//! `+ - * /`, parentheses and the functions of [`FUNCTIONS`]. It is parsed with the same SQL
//! parser as indicator expressions, so syntax errors read alike, and compiled once into a small
//! tree that is evaluated per unit without allocating.
//!
//! Missing values: a missing (`NaN`) operand makes the result missing, in every operator and
//! function but `coalesce(a, b, …)`, which gives its first present argument — the one way a
//! formula "says otherwise". `least` and `greatest` are missing when any argument is.

use std::ops::Range;

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, UnaryOperator, Value,
};

use super::diag::did_you_mean;
use super::expr::{ExprError, deep, parse, range_of};

/// The functions of formulas and constants: name, number of arguments (`None`: one or
/// more) and the function.
pub const FUNCTIONS: &[(&str, Option<usize>, Func)] = &[
    ("ln", Some(1), Func::Ln),
    ("log10", Some(1), Func::Log10),
    ("exp", Some(1), Func::Exp),
    ("sqrt", Some(1), Func::Sqrt),
    ("power", Some(2), Func::Power),
    ("abs", Some(1), Func::Abs),
    ("least", None, Func::Least),
    ("greatest", None, Func::Greatest),
    ("coalesce", None, Func::Coalesce),
];

/// What a formula may contain, for messages.
pub const SYNTAX: &str =
    "numbers, + - * /, parentheses, ln, log10, exp, sqrt, power, abs, least, greatest, coalesce";

/// A function of [`FUNCTIONS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// Natural logarithm.
    Ln,
    /// Base-10 logarithm.
    Log10,
    /// `e` to the power.
    Exp,
    /// Square root.
    Sqrt,
    /// `power(x, y)`: `x` to the power `y`.
    Power,
    /// Absolute value.
    Abs,
    /// The smallest argument (missing when any is).
    Least,
    /// The largest argument (missing when any is).
    Greatest,
    /// The first present argument.
    Coalesce,
}

impl Func {
    /// The function's name in a formula.
    fn name(self) -> &'static str {
        FUNCTIONS.iter().find(|f| f.2 == self).map_or("?", |f| f.0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

/// A compiled formula term, with its byte range in the text.
#[derive(Clone, Debug, PartialEq)]
enum Term {
    Num(f64),
    Var(usize),
    Neg(Box<Term>),
    Bin(Op, Box<Term>, Box<Term>, Range<usize>),
    Call(Func, Vec<Term>, Range<usize>),
}

/// A compiled formula over named values (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Formula {
    /// The text as written.
    pub text: String,
    term: Term,
    /// Which of the names given to [`Formula::compile`] the text uses, by position.
    used: Vec<bool>,
}

impl Formula {
    /// Compiles `text`, whose names are `names` (a name is case-insensitive, as in SQL; in
    /// [`Formula::eval`] the `k`-th name is `x[k]`). An unknown name is an error with a "did
    /// you mean" among `names`.
    pub fn compile(text: &str, names: &[&str]) -> Result<Formula, ExprError> {
        deep(text, || {
            let expr = parse(text)?;
            let mut c = Compiler {
                text,
                names,
                used: vec![false; names.len()],
            };
            let term = c.term(&expr)?;
            Ok(Formula {
                text: text.to_string(),
                term,
                used: c.used,
            })
        })
    }

    /// Whether the formula reads the `k`-th name.
    pub fn uses(&self, k: usize) -> bool {
        self.used.get(k).copied().unwrap_or(false)
    }

    /// The value for the named values `x` (`NaN` = missing; see the module docs). The result
    /// may be infinite or `NaN` when the arithmetic is undefined (`1 / 0`, `ln(0)`,
    /// `sqrt(-1)`): the caller tells that from a missing operand with [`Formula::missing`].
    pub fn eval(&self, x: &[f64]) -> f64 {
        eval(&self.term, x)
    }

    /// Whether the value for `x` is missing because a value it reads is missing (rather than
    /// undefined arithmetic).
    pub fn missing(&self, x: &[f64]) -> bool {
        missing(&self.term, x)
    }

    /// The formula written out with each name replaced by `name(k)` and the operators as the
    /// reader writes them (`×`, `÷`, `−`), for reports: `1 − harm ÷ gbar` becomes
    /// `1 − Harmonic mean ÷ Reference`.
    pub fn render(&self, name: &dyn Fn(usize) -> String) -> String {
        render(&self.term, name, 0)
    }
}

/// Evaluates a constant such as `ln(75000)` or `-1/3` (a method parameter written as a
/// string): a [`Formula`] without names. A name, an unknown function or operator, or a
/// result that is not a finite number (`ln(0)`, `1/0`) is an error with its range in `text`.
pub fn constant(text: &str) -> Result<f64, ExprError> {
    let f = Formula::compile(text, &[]).map_err(|mut e| {
        if e.message.starts_with("unknown name") {
            let name = &text[e.range.clone()];
            e.message = format!("`{name}`: a constant cannot refer to a column or name");
        } else if let Some(rest) = e.message.strip_prefix("not a formula") {
            e.message = format!("not a constant{rest}");
        } else {
            e.message =
                e.message
                    .replacen(" is not allowed (", " is not allowed in a constant (", 1);
        }
        e
    })?;
    checked(text, &f.term)
}

/// Evaluates a term of a constant, naming the first part whose value is not finite.
fn checked(text: &str, t: &Term) -> Result<f64, ExprError> {
    let fail = |range: &Range<usize>, message: String| ExprError {
        message,
        range: range.clone(),
    };
    match t {
        Term::Num(v) => Ok(*v),
        Term::Var(_) => unreachable!("a constant has no names"),
        Term::Neg(a) => Ok(-checked(text, a)?),
        Term::Bin(op, a, b, range) => {
            let (a, b) = (checked(text, a)?, checked(text, b)?);
            if *op == Op::Div && b == 0.0 {
                return Err(fail(range, "division by zero".into()));
            }
            let v = binary(*op, a, b);
            if v.is_finite() {
                Ok(v)
            } else {
                Err(fail(range, "the result is not a finite number".into()))
            }
        }
        Term::Call(f, args, range) => {
            let x: Vec<f64> = args
                .iter()
                .map(|a| checked(text, a))
                .collect::<Result<_, _>>()?;
            let v = call(*f, &x);
            if v.is_finite() {
                Ok(v)
            } else {
                Err(fail(
                    range,
                    format!("`{}` is not a finite number", &text[range.clone()]),
                ))
            }
        }
    }
}

fn binary(op: Op, a: f64, b: f64) -> f64 {
    match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => a / b,
    }
}

/// A function's value; `NaN` arguments are missing values (see the module docs).
fn call(f: Func, x: &[f64]) -> f64 {
    let any_missing = || x.iter().any(|v| v.is_nan());
    match f {
        Func::Ln => x[0].ln(),
        Func::Log10 => x[0].log10(),
        Func::Exp => x[0].exp(),
        Func::Sqrt => x[0].sqrt(),
        Func::Power => x[0].powf(x[1]),
        Func::Abs => x[0].abs(),
        // f64::min and max skip NaN: a missing argument must make the result missing.
        Func::Least if any_missing() => f64::NAN,
        Func::Greatest if any_missing() => f64::NAN,
        Func::Least => x.iter().copied().fold(f64::INFINITY, f64::min),
        Func::Greatest => x.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Func::Coalesce => x.iter().copied().find(|v| !v.is_nan()).unwrap_or(f64::NAN),
    }
}

fn eval(t: &Term, x: &[f64]) -> f64 {
    match t {
        Term::Num(v) => *v,
        Term::Var(k) => x[*k],
        Term::Neg(a) => -eval(a, x),
        Term::Bin(op, a, b, _) => binary(*op, eval(a, x), eval(b, x)),
        Term::Call(f, args, _) => match args.as_slice() {
            [a] => call(*f, &[eval(a, x)]),
            [a, b] => call(*f, &[eval(a, x), eval(b, x)]),
            _ => {
                let v: Vec<f64> = args.iter().map(|a| eval(a, x)).collect();
                call(*f, &v)
            }
        },
    }
}

/// Whether a term is missing because of a missing value it reads.
fn missing(t: &Term, x: &[f64]) -> bool {
    match t {
        Term::Num(_) => false,
        Term::Var(k) => x[*k].is_nan(),
        Term::Neg(a) => missing(a, x),
        Term::Bin(_, a, b, _) => missing(a, x) || missing(b, x),
        Term::Call(Func::Coalesce, args, _) => args.iter().all(|a| missing(a, x)),
        Term::Call(_, args, _) => args.iter().any(|a| missing(a, x)),
    }
}

fn render(t: &Term, name: &dyn Fn(usize) -> String, parent_prec: u8) -> String {
    let (s, prec) = match t {
        Term::Num(v) => (format!("{v}"), 9),
        Term::Var(k) => (name(*k), 9),
        Term::Neg(a) => (format!("−{}", render(a, name, 8)), 8),
        Term::Bin(op, a, b, _) => {
            let (sym, prec) = match op {
                Op::Add => ("+", 1),
                Op::Sub => ("−", 1),
                Op::Mul => ("×", 2),
                Op::Div => ("÷", 2),
            };
            // Left-associative: the right operand of − and ÷ keeps its parentheses.
            let right = render(b, name, prec + u8::from(matches!(op, Op::Sub | Op::Div)));
            (format!("{} {sym} {right}", render(a, name, prec)), prec)
        }
        Term::Call(f, args, _) => {
            let args: Vec<String> = args.iter().map(|a| render(a, name, 0)).collect();
            let fname = f.name();
            (format!("{fname}({})", args.join(", ")), 9)
        }
    };
    if prec < parent_prec {
        format!("({s})")
    } else {
        s
    }
}

struct Compiler<'a> {
    text: &'a str,
    names: &'a [&'a str],
    used: Vec<bool>,
}

impl Compiler<'_> {
    fn fail(&self, e: &Expr, message: String) -> ExprError {
        ExprError {
            message,
            range: range_of(self.text, e),
        }
    }

    fn term(&mut self, e: &Expr) -> Result<Term, ExprError> {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, _) => match n.to_string().parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(Term::Num(v)),
                    Ok(_) => Err(self.fail(e, format!("`{n}` is too large for a number"))),
                    Err(_) => Err(self.fail(e, format!("`{n}` is not a number"))),
                },
                other => Err(self.fail(e, format!("`{other}` is not a number"))),
            },
            Expr::Nested(inner) => self.term(inner),
            Expr::UnaryOp { op, expr } => match op {
                UnaryOperator::Minus => Ok(Term::Neg(Box::new(self.term(expr)?))),
                UnaryOperator::Plus => self.term(expr),
                other => Err(self.fail(
                    e,
                    format!("operator `{other}` is not allowed (use + - * / and parentheses)"),
                )),
            },
            Expr::BinaryOp { left, op, right } => {
                let op = match op {
                    BinaryOperator::Plus => Op::Add,
                    BinaryOperator::Minus => Op::Sub,
                    BinaryOperator::Multiply => Op::Mul,
                    BinaryOperator::Divide => Op::Div,
                    other => {
                        return Err(self.fail(
                            e,
                            format!(
                                "operator `{other}` is not allowed (use + - * / and parentheses, power(x, y) for powers)"
                            ),
                        ));
                    }
                };
                let (a, b) = (self.term(left)?, self.term(right)?);
                if op == Op::Div && b == Term::Num(0.0) {
                    return Err(self.fail(e, "division by zero".into()));
                }
                Ok(Term::Bin(
                    op,
                    Box::new(a),
                    Box::new(b),
                    range_of(self.text, e),
                ))
            }
            Expr::Function(f) => self.call(e, f),
            Expr::Identifier(ident) => self.name(e, &ident.value),
            _ => Err(self.fail(e, format!("not a formula: use {SYNTAX}"))),
        }
    }

    fn name(&mut self, e: &Expr, name: &str) -> Result<Term, ExprError> {
        match self.names.iter().position(|n| n.eq_ignore_ascii_case(name)) {
            Some(k) => {
                self.used[k] = true;
                Ok(Term::Var(k))
            }
            None => {
                let mut message = format!("unknown name `{name}`");
                if self.names.is_empty() {
                } else if let Some(h) = did_you_mean(name, self.names.iter().copied()) {
                    message.push_str(&format!(" ({h})"));
                } else {
                    message.push_str(&format!(" (known: {})", self.names.join(", ")));
                }
                Err(self.fail(e, message))
            }
        }
    }

    fn call(
        &mut self,
        e: &Expr,
        f: &datafusion::sql::sqlparser::ast::Function,
    ) -> Result<Term, ExprError> {
        let name = f.name.to_string().to_lowercase();
        let Some(&(_, arity, func)) = FUNCTIONS.iter().find(|(n, ..)| *n == name) else {
            let known: Vec<&str> = FUNCTIONS.iter().map(|(n, ..)| *n).collect();
            return Err(self.fail(
                e,
                format!(
                    "function `{}` is not allowed (known: {})",
                    f.name,
                    known.join(", ")
                ),
            ));
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
                        _ => Err(self.fail(e, format!("`{name}` takes plain values"))),
                    })
                    .collect::<Result<_, _>>()?
            }
            _ => return Err(self.fail(e, format!("`{name}` must be called as {name}(…)"))),
        };
        match arity {
            Some(arity) if args.len() != arity => {
                return Err(self.fail(
                    e,
                    format!(
                        "`{name}` takes {arity} argument{}, not {}",
                        if arity == 1 { "" } else { "s" },
                        args.len()
                    ),
                ));
            }
            None if args.is_empty() => {
                return Err(self.fail(e, format!("`{name}` takes at least one argument")));
            }
            _ => {}
        }
        let terms = args
            .into_iter()
            .map(|a| self.term(a))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Term::Call(func, terms, range_of(self.text, e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(text: &str, names: &[&str]) -> Formula {
        Formula::compile(text, names).unwrap()
    }

    #[test]
    fn formulas_by_hand() {
        let gdi = f("hdi_f / hdi_m", &["hdi_m", "hdi_f"]);
        assert_eq!(gdi.eval(&[0.8, 0.6]), 0.6 / 0.8);
        assert!(gdi.uses(0) && gdi.uses(1));
        // GII = 1 - harm / gbar
        let gii = f("1 - HARM / gbar", &["harm", "gbar", "other"]);
        assert!((gii.eval(&[0.3, 0.5, 9.0]) - 0.4).abs() < 1e-15);
        assert!(!gii.uses(2));
        let h = f("2 / (1 / a + 1 / b)", &["a", "b"]);
        assert!((h.eval(&[0.25, 0.75]) - 0.375).abs() < 1e-15);
        assert_eq!(
            f("power(a, 2) + sqrt(b)", &["a", "b"]).eval(&[3.0, 16.0]),
            13.0
        );
        assert_eq!(f("least(a, b, 5)", &["a", "b"]).eval(&[7.0, 6.0]), 5.0);
        assert_eq!(f("greatest(a, -b)", &["a", "b"]).eval(&[-7.0, 6.0]), -6.0);
        assert_eq!(f("abs(a - 10)", &["a"]).eval(&[4.0]), 6.0);
        assert_eq!(f("-a * -2", &["a"]).eval(&[4.0]), 8.0);
        assert!((f("exp(ln(a))", &["a"]).eval(&[3.5]) - 3.5).abs() < 1e-15);
        assert_eq!(f("log10(a)", &["a"]).eval(&[1000.0]), 3.0);
    }

    #[test]
    fn a_missing_value_makes_the_result_missing_unless_coalesce_says_otherwise() {
        let nan = f64::NAN;
        let r = f("a / b", &["a", "b"]);
        assert!(r.eval(&[nan, 2.0]).is_nan() && r.missing(&[nan, 2.0]));
        // least/greatest do not skip a missing value, as f64::min would.
        let l = f("least(a, b)", &["a", "b"]);
        assert!(l.eval(&[nan, 2.0]).is_nan() && l.missing(&[nan, 2.0]));
        assert!(f("greatest(a, b)", &["a", "b"]).eval(&[1.0, nan]).is_nan());
        let c = f("coalesce(a, 0) + b", &["a", "b"]);
        assert_eq!(c.eval(&[nan, 2.0]), 2.0);
        assert!(!c.missing(&[nan, 2.0]));
        assert!(c.eval(&[nan, nan]).is_nan() && c.missing(&[nan, nan]));
        // Undefined arithmetic is not "missing": the caller reports it.
        assert!(r.eval(&[1.0, 0.0]).is_infinite() && !r.missing(&[1.0, 0.0]));
        let s = f("sqrt(a)", &["a"]);
        assert!(s.eval(&[-1.0]).is_nan() && !s.missing(&[-1.0]));
    }

    #[test]
    fn unknown_names_and_functions_are_errors_at_their_place() {
        let e = Formula::compile("hdi_f / hdi_n", &["hdi_f", "hdi_m"]).unwrap_err();
        assert!(e.message.contains("unknown name `hdi_n`"), "{}", e.message);
        assert!(e.message.contains("did you mean"), "{}", e.message);
        assert_eq!(e.range, 8..13);
        let e = Formula::compile("median(a)", &["a"]).unwrap_err();
        assert!(
            e.message.contains("`median` is not allowed"),
            "{}",
            e.message
        );
        let e = Formula::compile("least()", &["a"]).unwrap_err();
        assert!(e.message.contains("at least one argument"), "{}", e.message);
        let e = Formula::compile("a % 2", &["a"]).unwrap_err();
        assert!(e.message.contains("operator `%`"), "{}", e.message);
        let e = Formula::compile("CASE WHEN a > 1 THEN a END", &["a"]).unwrap_err();
        assert!(e.message.contains("not a formula"), "{}", e.message);
        let e = Formula::compile("a / 0", &["a"]).unwrap_err();
        assert!(e.message.contains("division by zero"), "{}", e.message);
    }

    #[test]
    fn formulas_render_with_names_and_needed_parentheses_only() {
        let names = |k: usize| ["Harmonic mean", "Reference"][k].to_string();
        let gii = f("1 - (harm / gbar)", &["harm", "gbar"]);
        assert_eq!(gii.render(&names), "1 − Harmonic mean ÷ Reference");
        let g = f("(harm - gbar) * 2 - (1 - harm)", &["harm", "gbar"]);
        assert_eq!(
            g.render(&names),
            "(Harmonic mean − Reference) × 2 − (1 − Harmonic mean)"
        );
        let g = f("harm / (gbar * 2) + sqrt(harm)", &["harm", "gbar"]);
        assert_eq!(
            g.render(&names),
            "Harmonic mean ÷ (Reference × 2) + sqrt(Harmonic mean)"
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
        let err = e("1e400");
        assert!(err.message.contains("too large"), "{}", err.message);
        assert_eq!(err.range, 0..5);
        // A syntax error at a multi-byte character underlines that whole character.
        let text = "\u{307}数";
        let err = e(text);
        assert!(err.message.contains("syntax error"), "{}", err.message);
        assert!(
            text.is_char_boundary(err.range.end) && err.range.end > err.range.start,
            "{:?}",
            err.range
        );
        let err = e("CASE WHEN 1 THEN 2 END");
        assert!(err.message.contains("not a constant"), "{}", err.message);
    }
}
