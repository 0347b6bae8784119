//! `results.xlsx`: the period's ranking, dimension scores, indicator scores and raw values, the
//! methodology and an about sheet — bold frozen headers, fitted column widths, numbers shown
//! to 2 decimals (stored at full precision), reproducible byte for byte.

use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook, XlsxError};
use unicode_width::UnicodeWidthStr;

use super::{Report, describe};
use crate::error::Error;

/// A cell of a sheet.
enum Cell {
    Text(String),
    /// A number shown to 2 decimals.
    Num(Option<f64>),
    /// A whole number (rank).
    Int(Option<u32>),
    /// A share shown as a percentage.
    Pct(f64),
}

impl Cell {
    /// Width of the cell as displayed, in character cells (CJK count 2).
    fn width(&self) -> usize {
        match self {
            Cell::Text(s) => s.lines().map(UnicodeWidthStr::width).max().unwrap_or(0),
            Cell::Num(v) => v.map_or(0, |v| format!("{v:.2}").len()),
            Cell::Int(v) => v.map_or(0, |v| v.to_string().len()),
            Cell::Pct(v) => format!("{:.2}%", v * 100.0).len(),
        }
    }
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

struct Sheet {
    name: &'static str,
    header: Vec<String>,
    rows: Vec<Vec<Cell>>,
    /// Columns kept in view when scrolling right (code and name).
    freeze_cols: u16,
    /// Widest a column may be made, in characters.
    max_width: usize,
    /// Header with filter buttons (tables of units and nodes, not the about sheet).
    filter: bool,
}

/// The sheets' names, in order, for a language.
pub fn sheet_names(zh: bool) -> [&'static str; 6] {
    if zh {
        ["排名", "维度得分", "指标得分", "原始值", "方法说明", "概况"]
    } else {
        [
            "ranking",
            "dimension scores",
            "indicator scores",
            "raw values",
            "methodology",
            "about",
        ]
    }
}

fn sheets(rep: &Report) -> Vec<Sheet> {
    let fw = rep.fw;
    let panel = &rep.r.panel;
    let zh = rep.zh();
    let names = sheet_names(zh);
    let units = rep.units();
    let dims = rep.dims();
    let t = |zh: &'static str, en: &'static str| rep.t(zh, en).to_string();
    let code_name = |u: usize| vec![text(&panel.units[u]), text(rep.unit_name(u))];

    // Ranking.
    let groups = rep.has_groups();
    let any_note = units.iter().any(|&u| rep.status_note(u).is_some());
    let mut header = vec![t("排名", "rank")];
    if rep.prev.is_some() {
        header.extend([t("变化", "change"), t("上期排名", "previous rank")]);
    }
    header.extend([t("代码", "unit"), t("名称", "name")]);
    if groups {
        header.extend([t("所属组", "group"), t("组内排名", "rank in group")]);
    }
    header.push(rep.name(0).to_string());
    if any_note {
        header.push(t("说明", "note"));
    }
    let rows = units
        .iter()
        .map(|&u| {
            let mut row = vec![Cell::Int(rep.rank(u, 0))];
            if rep.prev.is_some() {
                row.extend([text(rep.change(u)), Cell::Int(rep.prev_rank(u))]);
            }
            row.extend(code_name(u));
            if groups {
                let g = panel.groups.as_ref().map_or("", |g| g[u].as_str());
                row.extend([text(g), Cell::Int(rep.group_rank(u))]);
            }
            row.push(Cell::Num(rep.score(u, 0)));
            if any_note {
                row.push(text(rep.status_note(u).unwrap_or("")));
            }
            row
        })
        .collect();
    let ranking = Sheet {
        name: names[0],
        header,
        rows,
        freeze_cols: 0,
        max_width: 40,
        filter: true,
    };

    // Dimension scores (score and rank per dimension).
    let mut header = vec![t("排名", "rank"), t("代码", "unit"), t("名称", "name")];
    for &d in &dims {
        header.push(rep.name(d).to_string());
        header.push(format!("{}{}", rep.name(d), t(" 排名", " rank")));
    }
    let rows = units
        .iter()
        .map(|&u| {
            let mut row = vec![Cell::Int(rep.rank(u, 0))];
            row.extend(code_name(u));
            for &d in &dims {
                row.push(Cell::Num(rep.score(u, d)));
                row.push(Cell::Int(rep.rank(u, d)));
            }
            row
        })
        .collect();
    let dimensions = Sheet {
        name: names[1],
        header,
        rows,
        freeze_cols: 3,
        max_width: 24,
        filter: true,
    };

    // Indicator scores and raw values.
    let inds = &panel.indicators;
    let mut header = vec![t("代码", "unit"), t("名称", "name")];
    header.extend(inds.iter().map(|&n| rep.name(n).to_string()));
    let rows = units
        .iter()
        .map(|&u| {
            let mut row = code_name(u);
            row.extend(inds.iter().map(|&n| Cell::Num(rep.score(u, n))));
            row
        })
        .collect();
    let indicator_scores = Sheet {
        name: names[2],
        header,
        rows,
        freeze_cols: 2,
        max_width: 24,
        filter: true,
    };
    let mut header = vec![t("代码", "unit"), t("名称", "name")];
    header.extend(inds.iter().map(|&n| {
        let unit = fw.nodes[n].indicator().map_or("", |s| s.unit.get(rep.lang));
        if unit.is_empty() {
            rep.name(n).to_string()
        } else if zh {
            format!("{}（{unit}）", rep.name(n))
        } else {
            format!("{} ({unit})", rep.name(n))
        }
    }));
    let rows = units
        .iter()
        .map(|&u| {
            let mut row = code_name(u);
            row.extend((0..inds.len()).map(|j| Cell::Num(rep.raw(u, j))));
            row
        })
        .collect();
    let raw = Sheet {
        name: names[3],
        header,
        rows,
        freeze_cols: 2,
        max_width: 24,
        filter: true,
    };

    // Methodology: every node with its effective methods.
    let header = vec![
        t("层级", "level"),
        t("代码", "id"),
        t("名称", "name"),
        t("上级", "parent"),
        t("单位", "unit"),
        t("方向", "direction"),
        t("权重", "weight"),
        t("有效权重", "effective weight"),
        t("计算公式", "formula"),
        t("缺失值插补", "imputation"),
        t("异常值处理", "outlier treatment"),
        t("标准化", "normalisation"),
        t("聚合方法", "aggregation"),
    ];
    let rows = rep
        .node_rows()
        .into_iter()
        .map(|r| {
            let n = &fw.nodes[r.node];
            vec![
                text(r.level),
                text(&n.id),
                text(rep.name(r.node)),
                text(n.parent.map_or("", |p| fw.nodes[p].id.as_str())),
                text(r.unit),
                text(r.direction),
                if r.node == 0 {
                    text("")
                } else {
                    Cell::Num(Some(n.weight))
                },
                Cell::Pct(r.effective),
                text(r.expr.trim()),
                text(r.impute),
                text(r.treat),
                text(r.normalise),
                text(r.aggregate),
            ]
        })
        .collect();
    let methodology = Sheet {
        name: names[4],
        header,
        rows,
        freeze_cols: 3,
        max_width: 50,
        filter: true,
    };

    // About.
    let mut about: Vec<(String, String)> = vec![
        (t("指数", "index"), rep.name(0).to_string()),
        (t("统计期", "period"), rep.period_name().to_string()),
        (
            t("比较期", "previous period"),
            rep.prev_name().unwrap_or("").to_string(),
        ),
        (t("单位数", "units"), units.len().to_string()),
        (t("维度数", "dimensions"), dims.len().to_string()),
        (t("指标数", "indicators"), inds.len().to_string()),
        (
            t("单位筛选", "screening"),
            describe::screen(&fw.defaults.screen, rep.lang),
        ),
        (t("排名规则", "ranking"), rep.rank_rule()),
        (t("框架文件", "framework"), rep.framework_path.clone()),
        (
            t("框架 sha256", "framework sha256"),
            rep.framework_sha.clone(),
        ),
        (
            t("kapok 版本", "kapok version"),
            env!("CARGO_PKG_VERSION").into(),
        ),
    ];
    for n in rep.period_notes() {
        about.push((t("本期说明", "note"), n));
    }
    for w in rep.warnings {
        about.push((t("计算提示", "warning"), w.clone()));
    }
    let about = Sheet {
        name: names[5],
        header: vec![t("项目", "key"), t("内容", "value")],
        rows: about
            .into_iter()
            .map(|(k, v)| vec![text(k), text(v)])
            .collect(),
        freeze_cols: 0,
        max_width: 100,
        filter: false,
    };

    vec![
        ranking,
        dimensions,
        indicator_scores,
        raw,
        methodology,
        about,
    ]
}

fn write(rep: &Report) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    let props = crate::io::reproducible_properties()?.set_title(rep.name(0));
    wb.set_properties(&props);
    let head = Format::new()
        .set_bold()
        .set_background_color("F2F2F2")
        .set_border_bottom(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let num = Format::new().set_num_format("0.00");
    let int = Format::new().set_num_format("0");
    let pct = Format::new().set_num_format("0.00%");
    for sheet in sheets(rep) {
        let ws = wb.add_worksheet();
        ws.set_name(sheet.name)?;
        let mut widths: Vec<usize> = sheet.header.iter().map(|h| h.width().min(24)).collect();
        for (c, h) in sheet.header.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &head)?;
        }
        for (r, row) in sheet.rows.iter().enumerate() {
            let r = r as u32 + 1;
            for (c, cell) in row.iter().enumerate() {
                widths[c] = widths[c].max(cell.width());
                let c = c as u16;
                match cell {
                    Cell::Text(s) if s.is_empty() => {}
                    Cell::Text(s) => {
                        ws.write_string(r, c, s)?;
                    }
                    Cell::Num(Some(v)) => {
                        ws.write_number_with_format(r, c, *v, &num)?;
                    }
                    Cell::Int(Some(v)) => {
                        ws.write_number_with_format(r, c, f64::from(*v), &int)?;
                    }
                    Cell::Pct(v) => {
                        ws.write_number_with_format(r, c, *v, &pct)?;
                    }
                    Cell::Num(None) | Cell::Int(None) => {}
                }
            }
        }
        for (c, w) in widths.iter().enumerate() {
            let w = (*w + 2).clamp(6, sheet.max_width);
            ws.set_column_width(c as u16, w as f64)?;
        }
        ws.set_freeze_panes(1, sheet.freeze_cols)?;
        if sheet.filter && !sheet.rows.is_empty() {
            ws.autofilter(
                0,
                0,
                sheet.rows.len() as u32,
                sheet.header.len().saturating_sub(1) as u16,
            )?;
        }
    }
    wb.save_to_buffer()
}

/// The workbook's bytes.
pub fn workbook(rep: &Report) -> Result<Vec<u8>, Error> {
    write(rep).map_err(|e| Error::Data(format!("writing results.xlsx: {e}")))
}
