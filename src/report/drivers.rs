//! "What drives the index": a box in words, from kapok's audit of the period's structure
//! ([`Report::structure`]), naming the dimensions that barely move with the index, pairs of
//! dimensions that pull against each other, and dimensions whose indicators do not agree.

use std::fmt::Write;

use super::Report;
use super::html::esc;
use crate::explain::audit::Audit;

/// A dimension whose Pearson correlation with the index is smaller than this in absolute value
/// barely moves with the index.
pub const BARELY: f64 = 0.3;
/// Two sibling dimensions whose Pearson correlation is at most this pull against each other.
pub const AGAINST: f64 = -0.5;
/// A dimension whose indicators have a Cronbach's alpha below this do not measure one thing.
pub const ALPHA_LOW: f64 = 0.5;

/// A correlation or alpha with two decimals, a true minus sign and no negative zero.
fn r2(v: f64) -> String {
    let s = format!("{:.2}", v);
    match s.strip_prefix('-') {
        Some(rest) if rest.bytes().all(|b| b == b'0' || b == b'.') => rest.to_string(),
        Some(rest) => format!("−{rest}"),
        None => s,
    }
}

/// Appends the box to `h`.
pub(super) fn drivers(rep: &Report, h: &mut String) {
    let title = rep.t("什么在驱动指数", "What drives the index");
    let _ = writeln!(h, "<div class=\"box\" id=\"drivers\">\n<h3>{title}</h3>");
    match rep.structure() {
        Ok(a) => findings(rep, &a, h),
        Err(e) => {
            let _ = writeln!(
                h,
                "<p>{}{}</p>",
                rep.t(
                    "本期无法完成统计审计：",
                    "The period could not be audited: "
                ),
                esc(&e.to_string())
            );
        }
    }
    h.push_str("</div>\n");
}

/// What the audit found, as sentences, then the thresholds.
fn findings(rep: &Report, a: &Audit, h: &mut String) {
    let dims = rep.dims();
    let name = |n: usize| esc(rep.name(n));
    let mut items = Vec::new();
    for c in a.correlations.iter().filter(|c| dims.contains(&c.node)) {
        let Some(r) = c.index.0 else { continue };
        if r.abs() < BARELY {
            let w = super::html::pct(a.effective_weights[c.node]);
            items.push(if rep.zh() {
                format!("<b>{}</b>（有效权重 {w}）与指数几乎不相关（r = {}）：它在指数中占有分量，却几乎不决定排名先后。", name(c.node), r2(r))
            } else {
                format!("<b>{}</b> ({w} of the weight) barely correlates with the index (r = {}): it carries weight but hardly decides the order.", name(c.node), r2(r))
            });
        }
    }
    for s in &a.siblings {
        let (x, y) = s.pair;
        let Some(r) = s.pearson else { continue };
        if dims.contains(&x) && dims.contains(&y) && r <= AGAINST {
            items.push(if rep.zh() {
                format!("<b>{}</b>与<b>{}</b>此消彼长（r = {}）：一项得分高的单位另一项往往得分低，两者在指数中相互抵消。", name(x), name(y), r2(r))
            } else {
                format!("<b>{}</b> and <b>{}</b> pull against each other (r = {}): units high on one tend to be low on the other, and the two cancel out in the index.", name(x), name(y), r2(r))
            });
        }
    }
    for g in a.aggregates.iter().filter(|g| dims.contains(&g.node)) {
        let Some(alpha) = g.alpha else { continue };
        if alpha < ALPHA_LOW {
            items.push(if rep.zh() {
                format!("<b>{}</b>所含各项的内部一致性低（Cronbach's α = {}）：它们并不衡量同一件事，该维度得分需结合各项指标解读。", name(g.node), r2(alpha))
            } else {
                format!("<b>{}</b> has little internal consistency (Cronbach's α = {}): its parts do not measure one thing, so read its score with its indicators.", name(g.node), r2(alpha))
            });
        }
    }
    if items.is_empty() {
        let _ = writeln!(
            h,
            "<p>{}</p>",
            rep.t(
                "本期没有需要特别说明的情况：各维度都随指数变化，没有相互抵消的维度，各维度内部一致。",
                "Nothing stands out this period: every dimension moves with the index, none pull against each other, and each is internally consistent."
            )
        );
    } else {
        h.push_str("<ul>\n");
        for i in &items {
            let _ = writeln!(h, "<li>{i}</li>");
        }
        h.push_str("</ul>\n");
    }
    let b = r2(BARELY);
    let (ag, al) = (r2(AGAINST), r2(ALPHA_LOW));
    let _ = writeln!(
        h,
        "<p class=\"muted\">{}</p>",
        if rep.zh() {
            format!(
                "依据本期各单位得分的统计审计（皮尔逊相关系数 r）。判定标准：与指数的 |r| 低于 {b} 为几乎不相关；同级维度间 r 不高于 {ag} 为此消彼长；Cronbach's α 低于 {al} 为内部一致性低。完整审计见 <code>kapok audit</code>。"
            )
        } else {
            format!(
                "From kapok's audit of this period's scores (Pearson's r). Thresholds: |r| with the index below {b} is barely correlated; r between sibling dimensions at or below {ag} is pulling against each other; Cronbach's α below {al} is little internal consistency. The full audit: <code>kapok audit</code>."
            )
        }
    );
}

#[cfg(test)]
mod tests {
    use super::r2;

    #[test]
    fn correlations_are_written_with_a_minus_sign_and_never_as_minus_zero() {
        assert_eq!(r2(-0.8), "−0.80");
        assert_eq!(r2(-0.001), "0.00");
        assert_eq!(r2(0.034), "0.03");
    }
}
