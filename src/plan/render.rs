//! Plans as text: table (for people), JSON and YAML (for tools), Markdown (for a
//! pull-request comment), DOT (the DAG). Rendering only formats: the changes it shows were
//! computed by `diff`.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::invariants::Invariant;
use super::ownership::Component;
use super::resolve::is_unknown;
use super::resource::{Mode, Party};
use super::{Action, Change, Plan, PlanMode};

/// The summary line: `32 to create: 21 customer-owned, 11 Union.ai-managed.`
pub fn summary_line(plan: &Plan) -> String {
    summary_sentences(plan).join(" ")
}

/// The summary line's sentences: the counts, and what apply refuses.
fn summary_sentences(plan: &Plan) -> Vec<String> {
    let s = plan.summary();
    let changes = s.create + s.update + s.replace + s.delete;
    if plan.mode == PlanMode::Destroy {
        if changes == 0 {
            return vec!["State records no resources: nothing to destroy.".to_string()];
        }
        let line = format!(
            "Destroy: {} to delete ({} customer-owned, {} Union.ai-managed).",
            s.delete, s.customer_owned, s.union_managed
        );
        if s.blocked > 0 {
            return vec![
                line,
                format!(
                    "{} refused: destroy never deletes data unless asked.",
                    s.blocked
                ),
            ];
        }
        return vec![line];
    }
    if changes == 0 {
        return vec!["No changes: the data plane matches the profile.".to_string()];
    }
    let owners = format!(
        "{} customer-owned, {} Union.ai-managed",
        s.customer_owned, s.union_managed
    );
    let line = if s.create == changes {
        format!("Plan: {} to create: {owners}.", s.create)
    } else {
        format!(
            "Plan: {} to create, {} to update, {} to replace, {} to delete ({owners}).",
            s.create, s.update, s.replace, s.delete
        )
    };
    if s.blocked > 0 {
        return vec![
            line,
            format!(
                "{} refused: apply never deletes data or identity.",
                s.blocked
            ),
        ];
    }
    vec![line]
}

/// The order in which stages run: customer, union, then the customer's resources that
/// refer to Union.ai's (BYOC only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Customer,
    Union,
    CustomerAfterUnion,
}

fn stage_heading(plan: &Plan, step: Step) -> String {
    if plan.mode == PlanMode::Destroy {
        return match step {
            Step::CustomerAfterUnion => "Stage customer, first: the customer's resources that refer to Union.ai's, deleted with the customer's credentials",
            Step::Union => "Stage union: deleted by Union.ai through the admin identity",
            Step::Customer => "Stage customer: deleted with the customer's credentials",
        }
        .to_string();
    }
    match step {
        Step::Customer => match plan.model {
            crate::profile::Model::Byoc => "Stage customer: created with the customer's credentials".to_string(),
            crate::profile::Model::SelfManaged => "Stage customer: created with the customer's credentials (self-managed: the only stage)".to_string(),
        },
        Step::Union => "Stage union: created by Union.ai through the admin identity".to_string(),
        Step::CustomerAfterUnion => "Stage customer, after the union stage: the customer's resources that refer to Union.ai's (the customer's credentials)".to_string(),
    }
}

fn controls(plan: &Plan, address: &str) -> String {
    plan.resource(address)
        .map(|r| {
            r.controls
                .iter()
                .map(|c| c.slug())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn name_of(plan: &Plan, c: &Change) -> String {
    plan.resource(&c.address)
        .map(|r| r.name.clone())
        .unwrap_or_else(|| {
            c.before
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        })
}

/// Changes grouped by the step that carries them out, each group in plan order.
fn by_stage(plan: &Plan) -> Vec<(Step, Vec<&Change>)> {
    let late = super::schedule::after_union(&plan.resources);
    let step = |c: &Change| match c.stage {
        Party::Union => Step::Union,
        Party::Customer if late.contains(c.address.as_str()) => Step::CustomerAfterUnion,
        Party::Customer => Step::Customer,
    };
    let order = match plan.mode {
        PlanMode::Apply => [Step::Customer, Step::Union, Step::CustomerAfterUnion],
        // Dependents first.
        PlanMode::Destroy => [Step::CustomerAfterUnion, Step::Union, Step::Customer],
    };
    order
        .into_iter()
        .map(|s| {
            (
                s,
                plan.resource_changes
                    .iter()
                    .filter(|c| step(c) == s)
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, cs)| !cs.is_empty())
        .collect()
}

/// How [`table_styled`] draws: ANSI colours or not, and the columns the table must fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableStyle {
    pub color: bool,
    pub width: usize,
}

impl Default for TableStyle {
    fn default() -> Self {
        TableStyle {
            color: false,
            width: 100,
        }
    }
}

/// The plan as a table for people, without colour, in 100 columns.
pub fn table(plan: &Plan) -> String {
    table_styled(plan, &TableStyle::default())
}

/// The plan as a table for people, laid out to `style.width` columns, coloured as
/// Terraform colours a plan when `style.color`.
///
/// A row is `ACTION ADDRESS OWNER INVARIANTS`, one line per resource while the address fits
/// its column. INVARIANTS holds the numbers of the security invariants the resource
/// implements (`2 3 4 8`); a legend after the table gives the slugs of those shown. The
/// native name is not a column (`--format json|yaml|markdown` show it). The ADDRESS column
/// is as wide as the longest address, or as the width leaves room for: a longer address
/// keeps its line, OWNER and INVARIANTS go on the next line under their columns. An address
/// is shortened only where it cannot fit on a line by itself. Long values in change lines
/// are shortened around where they differ (see `path_lines`), headings, refusals and
/// warnings wrap at spaces. Everything is laid out as plain text first and coloured after:
/// escape codes never count towards a width.
pub fn table_styled(plan: &Plan, style: &TableStyle) -> String {
    let w = style.width;
    let mut lines: Vec<Line> = Vec::new();
    let what = match plan.mode {
        PlanMode::Apply => "plan",
        PlanMode::Destroy => "destroy plan",
    };
    let title = format!(
        "unionctl {what}: {} ({} {}, {}), org {}",
        plan.data_plane, plan.cloud, plan.region, plan.model, plan.org
    );
    lines.extend(wrapped(&title, 0, 0, w));
    let stages = by_stage(plan);
    let rows: Vec<Row> = stages
        .iter()
        .flat_map(|(_, cs)| cs.iter())
        .filter(|c| c.action != Action::NoOp)
        .map(|c| Row::of(plan, c))
        .collect();
    let layout = Layout::choose(&rows, w);
    let mut listed = rows.iter();
    for (stage, changes) in &stages {
        let unchanged = changes.iter().filter(|c| c.action == Action::NoOp).count();
        lines.push(Line::default());
        if unchanged == changes.len() {
            lines.extend(wrapped(
                &format!("{}: {unchanged} unchanged", stage_heading(plan, *stage)),
                0,
                0,
                w,
            ));
            continue;
        }
        lines.extend(wrapped(&stage_heading(plan, *stage), 0, 0, w));
        lines.push(layout.header());
        for c in changes.iter().filter(|c| c.action != Action::NoOp) {
            let row = listed.next().expect("one row per listed change");
            lines.extend(layout.row_lines(row, w));
            for path in &c.changed_paths {
                lines.extend(path_lines(c, path, w));
            }
            if let Some(reason) = &c.blocked {
                let mut block = wrapped(&format!("! refused: {reason}"), DETAIL, DETAIL + 2, w);
                block[0].tint_prefix("! refused:", Tone::RedBold);
                lines.extend(block);
            }
        }
    }
    let unchanged = plan
        .resource_changes
        .iter()
        .filter(|c| c.action == Action::NoOp)
        .count();
    if unchanged > 0 && plan.has_changes() {
        lines.push(Line::default());
        lines.extend(wrapped(
            &format!("({unchanged} resources unchanged, not listed)"),
            0,
            0,
            w,
        ));
    }
    let key = legend(&rows, w);
    if !key.is_empty() {
        lines.push(Line::default());
        lines.extend(key);
    }
    for warning in &plan.warnings {
        lines.push(Line::default());
        let mut block = wrapped(
            &format!(
                "warning: {} — {}: {}",
                warning.invariant, warning.address, warning.message
            ),
            0,
            2,
            w,
        );
        block[0].tint_prefix("warning:", Tone::Yellow);
        lines.extend(block);
    }
    lines.push(Line::default());
    let summary = summary_line(plan);
    if cols(&summary) <= w {
        lines.extend(wrapped(&summary, 0, 0, w));
    } else {
        for sentence in summary_sentences(plan) {
            lines.extend(wrapped(&sentence, 0, 0, w));
        }
    }
    let mut out = String::new();
    for line in &lines {
        out.push_str(&line.render(style.color));
        out.push('\n');
    }
    out
}

/// Where a row's cells start: two spaces, the action (`-/+ replace` is the widest), one
/// space, the address.
const INDENT: usize = 2;
const ACTION_WIDTH: usize = 11;
const ADDRESS_COL: usize = INDENT + ACTION_WIDTH + 1;
const OWNER_WIDTH: usize = 8;
const GAP: usize = 2;
/// Where a change's paths and the refusal start, and a path's elements.
const DETAIL: usize = ADDRESS_COL + 2;
const ELEMENT: usize = DETAIL + 2;
/// The ADDRESS column is not made narrower than this.
const ADDRESS_FLOOR: usize = 24;
const DRIFT: &str = "(changed outside unionctl)";
const FORCES: &str = "# forces replacement";

/// A colour, applied after layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tone {
    Plain,
    Green,
    Yellow,
    Magenta,
    Red,
    RedBold,
    Cyan,
}

fn action_tone(action: Action) -> Tone {
    match action {
        Action::Create => Tone::Green,
        Action::Update => Tone::Yellow,
        Action::Replace => Tone::Magenta,
        Action::Delete => Tone::Red,
        Action::Read => Tone::Cyan,
        Action::NoOp => Tone::Plain,
    }
}

fn paint(text: &str, tone: Tone, color: bool) -> String {
    if !color || tone == Tone::Plain || text.is_empty() {
        return text.to_string();
    }
    let style = console::Style::new().force_styling(true);
    let style = match tone {
        Tone::Plain => style,
        Tone::Green => style.green(),
        Tone::Yellow => style.yellow(),
        Tone::Magenta => style.magenta(),
        Tone::Red => style.red(),
        Tone::RedBold => style.red().bold(),
        Tone::Cyan => style.cyan(),
    };
    style.apply_to(text).to_string()
}

/// Columns a plain text takes (every character the table prints is one column wide).
fn cols(text: &str) -> usize {
    text.chars().count()
}

/// One output line as coloured spans; `width` counts the plain text only.
#[derive(Debug, Default)]
struct Line {
    spans: Vec<(String, Tone)>,
    width: usize,
}

impl Line {
    fn push(&mut self, text: impl Into<String>, tone: Tone) -> &mut Self {
        let text = text.into();
        self.width += cols(&text);
        self.spans.push((text, tone));
        self
    }

    /// `text` starting at column `col` (right after what is there if that is further).
    fn at(&mut self, col: usize, text: impl Into<String>, tone: Tone) -> &mut Self {
        if self.width < col {
            let pad = " ".repeat(col - self.width);
            self.push(pad, Tone::Plain);
        }
        self.push(text, tone)
    }

    /// Colours `prefix` where the last span starts with it.
    fn tint_prefix(&mut self, prefix: &str, tone: Tone) {
        let Some((text, _)) = self.spans.last() else {
            return;
        };
        let Some(rest) = text.strip_prefix(prefix).map(str::to_string) else {
            return;
        };
        self.spans.pop();
        self.spans.push((prefix.to_string(), tone));
        self.spans.push((rest, Tone::Plain));
    }

    fn render(&self, color: bool) -> String {
        let mut out: String = self
            .spans
            .iter()
            .map(|(t, tone)| paint(t, *tone, color))
            .collect();
        out.truncate(out.trim_end_matches(' ').len());
        out
    }
}

/// `text` wrapped at spaces to `width` columns, the first line starting at column `first`,
/// the others at `rest`; a short parenthesis is kept whole, a word longer than a line is cut.
fn wrapped(text: &str, first: usize, rest: usize, width: usize) -> Vec<Line> {
    let mut out = Vec::new();
    let mut current = String::new();
    let room = |n: usize| {
        if n == 0 {
            width.saturating_sub(first).max(1)
        } else {
            width.saturating_sub(rest).max(1)
        }
    };
    let mut words: Vec<String> = Vec::new();
    let mut open: Option<usize> = None;
    for word in text.split(' ') {
        match open {
            Some(i) => {
                words[i].push(' ');
                words[i].push_str(word);
            }
            None => words.push(word.to_string()),
        }
        if word.starts_with('(') && !word.contains(')') {
            open = Some(words.len() - 1);
        }
        if let Some(i) = open.filter(|_| word.contains(')')) {
            open = None;
            if cols(&words[i]) > 30 {
                let parts: Vec<String> = words.remove(i).split(' ').map(str::to_string).collect();
                words.extend(parts);
            }
        }
    }
    if let Some(i) = open.filter(|i| cols(&words[*i]) > 30) {
        let parts: Vec<String> = words.remove(i).split(' ').map(str::to_string).collect();
        words.extend(parts);
    }
    for word in words {
        let mut word = word;
        loop {
            let limit = room(out.len());
            let needed = if current.is_empty() {
                cols(&word)
            } else {
                cols(&current) + 1 + cols(&word)
            };
            if needed <= limit {
                if !current.is_empty() {
                    current.push(' ');
                }
                current.push_str(&word);
                break;
            }
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
                continue;
            }
            // A word longer than a whole line: cut it.
            let cut: String = word.chars().take(limit).collect();
            word = word.chars().skip(limit).collect();
            out.push(cut);
            if word.is_empty() {
                break;
            }
        }
    }
    if !current.is_empty() || out.is_empty() {
        out.push(current);
    }
    out.into_iter()
        .enumerate()
        .map(|(i, text)| {
            let mut line = Line::default();
            line.at(if i == 0 { first } else { rest }, text, Tone::Plain);
            line
        })
        .collect()
}

/// A listed change, as the cells of its row.
struct Row {
    action: Action,
    address: String,
    owner: &'static str,
    /// The numbers of the invariants the resource implements (docs/security.md), ascending.
    invariants: Vec<usize>,
    drift: bool,
}

impl Row {
    fn of(plan: &Plan, c: &Change) -> Row {
        let mut invariants: Vec<usize> = plan
            .resource(&c.address)
            .map(|r| r.controls.iter().map(|i| i.number()).collect())
            .unwrap_or_default();
        invariants.sort_unstable();
        invariants.dedup();
        Row {
            action: c.action,
            address: c.address.clone(),
            owner: c.owner.as_str(),
            invariants,
            drift: c.drift,
        }
    }

    /// The INVARIANTS cell: `2 3 4 8`.
    fn numbers(&self) -> String {
        self.invariants
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The legend's label (its lines after the first start under its first entry), and where
/// the invariants are described.
const LEGEND: &str = "Invariants:";
const SECURITY_DOC: &str = "(docs/security.md)";

/// The key to the INVARIANTS column: the invariants the rows show, by number, with their
/// slugs (`Invariants: 1 private-endpoint, 2 encryption-at-rest, … (docs/security.md)`),
/// wrapped to `width` between entries, never inside one. Empty when no row shows any.
fn legend(rows: &[Row], width: usize) -> Vec<Line> {
    let shown: Vec<Invariant> = Invariant::ALL
        .into_iter()
        .filter(|i| rows.iter().any(|r| r.invariants.contains(&i.number())))
        .collect();
    if shown.is_empty() {
        return Vec::new();
    }
    let mut units: Vec<String> = shown
        .iter()
        .enumerate()
        .map(|(k, i)| {
            format!(
                "{} {}{}",
                i.number(),
                i.slug(),
                if k + 1 < shown.len() { "," } else { "" }
            )
        })
        .collect();
    units.push(SECURITY_DOC.to_string());
    let indent = cols(LEGEND) + 1;
    let mut texts = vec![LEGEND.to_string()];
    for unit in units {
        let start = if texts.len() == 1 { 0 } else { indent };
        let current = texts.last().expect("the legend's first line");
        if !current.is_empty() && start + cols(current) + 1 + cols(&unit) > width {
            texts.push(String::new());
        }
        let current = texts.last_mut().expect("the line being filled");
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(&unit);
    }
    texts
        .into_iter()
        .enumerate()
        .map(|(k, text)| {
            let mut line = Line::default();
            line.at(if k == 0 { 0 } else { indent }, text, Tone::Plain);
            line
        })
        .collect()
}

/// Where the rows' cells go. ACTION, OWNER and INVARIANTS have fixed widths (INVARIANTS as
/// wide as its heading or widest cell); ADDRESS is as wide as the longest address, or as
/// the width leaves room for (not below `ADDRESS_FLOOR`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    address: usize,
}

impl Layout {
    fn choose(rows: &[Row], width: usize) -> Layout {
        let longest = rows
            .iter()
            .map(|r| cols(&r.address))
            .max()
            .unwrap_or(0)
            .max(cols("ADDRESS"));
        let invariants = rows
            .iter()
            .map(|r| cols(&r.numbers()))
            .max()
            .unwrap_or(0)
            .max(cols("INVARIANTS"));
        let cells = ADDRESS_COL + GAP + OWNER_WIDTH + GAP + invariants;
        Layout {
            address: width
                .saturating_sub(cells)
                .min(longest)
                .max(ADDRESS_FLOOR.min(longest)),
        }
    }

    fn owner_col(&self) -> usize {
        ADDRESS_COL + self.address + GAP
    }

    fn invariants_col(&self) -> usize {
        self.owner_col() + OWNER_WIDTH + GAP
    }

    fn header(&self) -> Line {
        let mut line = Line::default();
        line.at(INDENT, "ACTION", Tone::Plain)
            .at(ADDRESS_COL, "ADDRESS", Tone::Plain)
            .at(self.owner_col(), "OWNER", Tone::Plain)
            .at(self.invariants_col(), "INVARIANTS", Tone::Plain);
        line
    }

    /// A row's lines: one, `ACTION ADDRESS OWNER INVARIANTS`, when the address fits its
    /// column; else the action and address, and OWNER and INVARIANTS on the next line under
    /// their columns. A drift note follows on the address's line: after the whole row if it
    /// fits, else the row is split as for a long address; on a line of its own only if it
    /// does not fit after the address either.
    fn row_lines(&self, row: &Row, width: usize) -> Vec<Line> {
        let action = format!("{} {}", row.action.symbol(), row.action.as_str());
        // Shortened only where it cannot fit on a line by itself.
        let address = elide(
            &row.address,
            None,
            width.saturating_sub(ADDRESS_COL).max(cols("ADDRESS")),
        );
        let numbers = row.numbers();
        let start = || {
            let mut line = Line::default();
            line.at(INDENT, action.as_str(), action_tone(row.action))
                .at(ADDRESS_COL, address.as_str(), Tone::Plain);
            line
        };
        let cells = |line: &mut Line| {
            line.at(self.owner_col(), row.owner, Tone::Plain).at(
                self.invariants_col(),
                numbers.as_str(),
                Tone::Plain,
            );
        };
        let mut first = start();
        let mut own_line = cols(&address) > self.address;
        if !own_line {
            let mut whole = start();
            cells(&mut whole);
            // The drift note stays on the address's line: the cells move to the next line
            // if it does not fit after them.
            if row.drift
                && whole.width + GAP + cols(DRIFT) > width
                && first.width + 1 + cols(DRIFT) <= width
            {
                own_line = true;
            } else {
                first = whole;
            }
        }
        let mut lines = Vec::new();
        let gap = if own_line { 1 } else { GAP };
        let note_fits = first.width + gap + cols(DRIFT) <= width;
        if row.drift && note_fits {
            first.at(first.width + gap, DRIFT, Tone::Yellow);
        }
        lines.push(first);
        if row.drift && !note_fits {
            let mut note = Line::default();
            note.at(DETAIL, DRIFT, Tone::Yellow);
            lines.push(note);
        }
        if own_line {
            let mut next = Line::default();
            cells(&mut next);
            lines.push(next);
        }
        lines
    }
}

/// The lines under a row for one changed path: `path: before → after` when it fits whole;
/// else, for lists, the elements removed and added (`- e`, `+ e`), for objects the keys that
/// differ, each on its line and shortened on its own; else the two values shortened around
/// where they differ.
fn path_lines(c: &Change, path: &str, width: usize) -> Vec<Line> {
    let pointer = if path == "/" { "" } else { path };
    let before = c.before.pointer(pointer);
    let after = c.after.pointer(pointer);
    let forces = c.replace_paths.iter().any(|p| p == path);
    let forces_cols = if forces { GAP + cols(FORCES) } else { 0 };
    let (b, a) = (value_text(before), value_text(after));
    let path_shown = elide(
        path,
        None,
        width.saturating_sub(DETAIL + 1 + forces_cols).max(8),
    );
    let mut head = Line::default();
    let with_forces = |line: &mut Line| {
        if forces {
            line.push("  ", Tone::Plain).push(FORCES, Tone::Red);
        }
    };
    // Whole, if it fits.
    if DETAIL + cols(&path_shown) + 2 + cols(&b) + 3 + cols(&a) + forces_cols <= width {
        head.at(DETAIL, format!("{path_shown}: {b} → {a}"), Tone::Plain);
        with_forces(&mut head);
        return vec![head];
    }
    let items = element_changes(before, after);
    if !items.is_empty() {
        head.at(DETAIL, format!("{path_shown}:"), Tone::Plain);
        with_forces(&mut head);
        let mut out = vec![head];
        let room = width.saturating_sub(ELEMENT + 2);
        for item in items {
            let mut line = Line::default();
            let (sign, tone) = match item.sign {
                '+' => ("+", Tone::Green),
                '-' => ("-", Tone::Red),
                _ => ("~", Tone::Yellow),
            };
            line.at(ELEMENT, sign, tone).push(" ", Tone::Plain);
            let key = item
                .key
                .map(|k| format!("{}: ", elide(&k, None, (room / 3).max(8))))
                .unwrap_or_default();
            let room = room.saturating_sub(cols(&key));
            let text = match (&item.before, &item.after) {
                (Some((b, bf)), Some((a, af))) => {
                    let (bw, aw) = split(room.saturating_sub(3), cols(b), cols(a));
                    format!("{key}{} → {}", elide(b, *bf, bw), elide(a, *af, aw))
                }
                (Some((t, f)), None) | (None, Some((t, f))) => {
                    format!("{key}{}", elide(t, *f, room))
                }
                (None, None) => key,
            };
            line.push(text, Tone::Plain);
            out.push(line);
        }
        return out;
    }
    // Scalars (or values of different shapes): both, around where they differ; on a line
    // of their own if the path leaves too little room.
    let (fb, fa) = focus(&b, &a);
    let inline = width.saturating_sub(DETAIL + cols(&path_shown) + 2 + 3 + forces_cols);
    if inline >= 40 {
        let (bw, aw) = split(inline, cols(&b), cols(&a));
        head.at(
            DETAIL,
            format!(
                "{path_shown}: {} → {}",
                elide(&b, Some(fb), bw),
                elide(&a, Some(fa), aw)
            ),
            Tone::Plain,
        );
        with_forces(&mut head);
        return vec![head];
    }
    head.at(DETAIL, format!("{path_shown}:"), Tone::Plain);
    with_forces(&mut head);
    let (bw, aw) = split(width.saturating_sub(ELEMENT + 3), cols(&b), cols(&a));
    let mut values = Line::default();
    values.at(
        ELEMENT,
        format!("{} → {}", elide(&b, Some(fb), bw), elide(&a, Some(fa), aw)),
        Tone::Plain,
    );
    vec![head, values]
}

/// A value as the table shows it.
fn value_text(v: Option<&Value>) -> String {
    match v {
        None => "(none)".to_string(),
        Some(v) if is_unknown(v) => "(known after apply)".to_string(),
        Some(v) => v.to_string(),
    }
}

/// `room` columns shared by two texts: each gets what it needs if both fit, else the
/// shorter its need up to half, the longer the rest.
fn split(room: usize, left: usize, right: usize) -> (usize, usize) {
    if left + right <= room {
        return (left, right);
    }
    let half = room / 2;
    if left <= half {
        (left, room - left)
    } else if right <= room - half {
        (room - right, right)
    } else {
        (half, room - half)
    }
}

/// One line of a list's or object's diff: what was there, what will be, each with the
/// range of characters to keep in view when shortened.
type Shown = (String, Option<(usize, usize)>);

struct Item {
    sign: char,
    key: Option<String>,
    before: Option<Shown>,
    after: Option<Shown>,
}

/// Elements removed and added between two lists (compared as multisets, as `diff` does;
/// a missing list is empty), or keys removed, added and changed between two objects; empty
/// for anything else. Each element keeps in view where it differs from the most alike one
/// on the other side.
fn element_changes(before: Option<&Value>, after: Option<&Value>) -> Vec<Item> {
    let missing = |v: Option<&Value>| v.is_none_or(Value::is_null);
    match (before, after) {
        (Some(Value::Array(_)), _) | (_, Some(Value::Array(_))) => {
            let b: &[Value] = match before {
                Some(Value::Array(items)) => items,
                v if missing(v) => &[],
                _ => return Vec::new(),
            };
            let a: &[Value] = match after {
                Some(Value::Array(items)) => items,
                v if missing(v) => &[],
                _ => return Vec::new(),
            };
            let (removed, added) = multiset_difference(b, a);
            let texts = |items: &[Value]| {
                items
                    .iter()
                    .map(|v| value_text(Some(v)))
                    .collect::<Vec<_>>()
            };
            let (b_texts, a_texts) = (texts(b), texts(a));
            let shown = |v: &Value, others: &[String]| {
                let text = value_text(Some(v));
                let range = nearest(&text, others).map(|other| focus(&text, other).0);
                (text, range)
            };
            let mut out: Vec<Item> = removed
                .iter()
                .map(|v| Item {
                    sign: '-',
                    key: None,
                    before: Some(shown(v, &a_texts)),
                    after: None,
                })
                .collect();
            out.extend(added.iter().map(|v| Item {
                sign: '+',
                key: None,
                before: None,
                after: Some(shown(v, &b_texts)),
            }));
            out
        }
        (Some(Value::Object(_)), _) | (_, Some(Value::Object(_))) => {
            let empty = serde_json::Map::new();
            let b = match before {
                Some(Value::Object(m)) => m,
                v if missing(v) => &empty,
                _ => return Vec::new(),
            };
            let a = match after {
                Some(Value::Object(m)) => m,
                v if missing(v) => &empty,
                _ => return Vec::new(),
            };
            let mut out = Vec::new();
            for (k, bv) in b {
                let bt = value_text(Some(bv));
                match a.get(k) {
                    None => out.push(Item {
                        sign: '-',
                        key: Some(k.clone()),
                        before: Some((bt, None)),
                        after: None,
                    }),
                    Some(av) if super::diff::canonical(bv) != super::diff::canonical(av) => {
                        let at = value_text(Some(av));
                        let (fb, fa) = focus(&bt, &at);
                        out.push(Item {
                            sign: '~',
                            key: Some(k.clone()),
                            before: Some((bt, Some(fb))),
                            after: Some((at, Some(fa))),
                        });
                    }
                    Some(_) => {}
                }
            }
            for (k, av) in a {
                if !b.contains_key(k) {
                    out.push(Item {
                        sign: '+',
                        key: Some(k.clone()),
                        before: None,
                        after: Some((value_text(Some(av)), None)),
                    });
                }
            }
            out
        }
        _ => Vec::new(),
    }
}

/// The elements of `before` not in `after`, and of `after` not in `before`, each in order,
/// counting repeats.
fn multiset_difference<'a>(
    before: &'a [Value],
    after: &'a [Value],
) -> (Vec<&'a Value>, Vec<&'a Value>) {
    let mut unmatched: Vec<Option<String>> = after
        .iter()
        .map(|v| Some(super::diff::canonical(v)))
        .collect();
    let mut removed = Vec::new();
    for v in before {
        let key = super::diff::canonical(v);
        match unmatched
            .iter_mut()
            .find(|u| u.as_deref() == Some(key.as_str()))
        {
            Some(slot) => *slot = None,
            None => removed.push(v),
        }
    }
    let added = after
        .iter()
        .zip(&unmatched)
        .filter(|(_, u)| u.is_some())
        .map(|(v, _)| v)
        .collect();
    (removed, added)
}

/// Of `others`, the text sharing the longest start and end with `text`.
fn nearest<'a>(text: &str, others: &'a [String]) -> Option<&'a String> {
    others.iter().max_by_key(|o| {
        let (range, _) = focus(text, o);
        cols(text) - (range.1 - range.0)
    })
}

/// Where two texts differ, in characters of each: what is left once their common start and
/// common end are taken off.
fn focus(a: &str, b: &str) -> ((usize, usize), (usize, usize)) {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let start = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let end = a[start..]
        .iter()
        .rev()
        .zip(b[start..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    ((start, a.len() - end), (start, b.len() - end))
}

/// `text` in at most `max` columns, cut parts replaced by `…`. It keeps its start and end;
/// given a `focus` (a range of characters), that range first (up to two thirds of the
/// room: its own start and end if it is longer), then the start, the end and what is around
/// the range, a character from each in turn.
fn elide(text: &str, focus: Option<(usize, usize)>, max: usize) -> String {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len();
    if n <= max {
        return text.to_string();
    }
    if max <= 1 {
        return "…".repeat(max);
    }
    let mut kept = vec![false; n];
    // Columns the result would take: the kept characters and one `…` per cut run.
    let mut used = 1;
    let mut take = |i: usize, limit: usize, kept: &mut Vec<bool>| -> bool {
        if kept[i] {
            return false;
        }
        let left_cut = i > 0 && !kept[i - 1];
        let right_cut = i + 1 < n && !kept[i + 1];
        let more = match (left_cut, right_cut) {
            (true, true) => 2,
            (false, false) => 0,
            _ => 1,
        };
        if used + more > limit {
            return false;
        }
        kept[i] = true;
        used += more;
        true
    };
    // Fronts: a position, a direction and where to stop; one character per front per turn
    // until it runs into kept text, its stop, or the limit.
    let mut run = |fronts: &mut Vec<(isize, isize, isize)>, limit: usize, kept: &mut Vec<bool>| {
        let mut live: Vec<bool> = vec![true; fronts.len()];
        loop {
            let mut moved = false;
            for (f, alive) in fronts.iter_mut().zip(live.iter_mut()) {
                if !*alive {
                    continue;
                }
                if f.0 == f.2 || f.0 < 0 || f.0 >= n as isize || !take(f.0 as usize, limit, kept) {
                    *alive = false;
                    continue;
                }
                f.0 += f.1;
                moved = true;
            }
            if !moved {
                break;
            }
        }
    };
    let n_ = n as isize;
    let mut inner = Vec::new();
    let mut frame: Vec<(isize, isize, isize)> = vec![(0, 1, n_), (n_ - 1, -1, -1)];
    if let Some((start, end)) = focus {
        let (start, end) = (start.min(n) as isize, end.min(n) as isize);
        if start < end {
            inner = vec![(start, 1, end), (end - 1, -1, start - 1)];
        }
        // What is around the difference (or around where the other text has more).
        if start > 0 {
            frame.push((start - 1, -1, -1));
        }
        if end < n_ && (start < end || start > 0) {
            frame.push((end, 1, n_));
        }
    }
    run(&mut inner, max - max / 3, &mut kept);
    frame.extend(inner);
    run(&mut frame, max, &mut kept);
    let mut out = String::new();
    for (i, c) in chars.iter().enumerate() {
        if kept[i] {
            out.push(*c);
        } else if i == 0 || kept[i - 1] {
            out.push('…');
        }
    }
    out
}

/// The plan's changes as the `--output json` result of `plan` and `apply`: what CI gates
/// on, without the settings (the saved plan has those).
pub fn changes_result(plan: &Plan) -> Value {
    let changes: Vec<Value> = plan
        .resource_changes
        .iter()
        .map(|c| {
            json!({
                "address": c.address,
                "action": c.action,
                "owner": c.owner,
                "stage": c.stage,
                "drift": c.drift,
                "changed_paths": c.changed_paths,
                "replace_paths": c.replace_paths,
                "blocked": c.blocked,
            })
        })
        .collect();
    json!({
        "mode": plan.mode,
        "data_plane": plan.data_plane,
        "cloud": plan.cloud,
        "region": plan.region,
        "model": plan.model,
        "prior_state": plan.prior_state,
        "summary": plan.summary(),
        "changes": changes,
    })
}

pub fn json(plan: &Plan) -> String {
    let mut s =
        serde_json::to_string_pretty(plan).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

pub fn yaml(plan: &Plan) -> Result<String, String> {
    serde_saphyr::to_string(plan).map_err(|e| e.to_string())
}

pub fn markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### unionctl plan: `{}` ({} {}, {})\n",
        plan.data_plane, plan.cloud, plan.region, plan.model
    );
    let _ = writeln!(out, "**{}**\n", summary_line(plan));
    for (stage, changes) in by_stage(plan) {
        let _ = writeln!(out, "#### {}\n", stage_heading(plan, stage));
        let _ = writeln!(out, "| action | address | name | owner | controls |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for c in changes {
            let _ = writeln!(
                out,
                "| {} | `{}` | `{}` | {} | {} |",
                c.action.as_str(),
                c.address,
                name_of(plan, c),
                c.owner.display_name(),
                controls(plan, &c.address)
            );
        }
        out.push('\n');
    }
    if !plan.warnings.is_empty() {
        let _ = writeln!(out, "#### Warnings\n");
        for w in &plan.warnings {
            let _ = writeln!(out, "- {}: `{}` — {}", w.invariant, w.address, w.message);
        }
        out.push('\n');
    }
    let _ = writeln!(out, "<details><summary>Components and owners</summary>\n");
    let _ = writeln!(out, "| component | owner | resources |");
    let _ = writeln!(out, "|---|---|---|");
    for component in Component::ALL {
        let rs: Vec<&str> = plan
            .resources
            .iter()
            .filter(|r| r.component == component)
            .map(|r| r.address.as_str())
            .collect();
        if rs.is_empty() {
            continue;
        }
        let owner = plan
            .resources
            .iter()
            .find(|r| r.component == component)
            .map_or("", |r| r.owner.display_name());
        let _ = writeln!(out, "| {} | {} | {} |", component.title(), owner, rs.len());
    }
    let _ = writeln!(out, "\n</details>");
    out
}

/// The DAG in Graphviz DOT: customer-owned nodes blue, Union.ai-managed orange, data
/// sources dashed; edges point from a dependency to what needs it.
pub fn dot(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", plan.data_plane);
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(
        out,
        "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];"
    );
    for stage in [Party::Customer, Party::Union] {
        let members: Vec<_> = plan.resources.iter().filter(|r| r.stage == stage).collect();
        if members.is_empty() {
            continue;
        }
        let _ = writeln!(out, "  subgraph \"cluster_{}\" {{", stage.as_str());
        let _ = writeln!(out, "    label=\"stage {}\";", stage.as_str());
        for r in members {
            let fill = match r.owner {
                Party::Customer => "#cfe2ff",
                Party::Union => "#ffd8a8",
            };
            let style = if r.mode == Mode::Data {
                "rounded,filled,dashed"
            } else {
                "rounded,filled"
            };
            let _ = writeln!(
                out,
                "    \"{}\" [fillcolor=\"{fill}\", style=\"{style}\", tooltip=\"owner: {}\"];",
                r.address,
                r.owner.as_str()
            );
        }
        let _ = writeln!(out, "  }}");
    }
    for r in &plan.resources {
        for d in &r.depends_on {
            let _ = writeln!(out, "  \"{d}\" -> \"{}\";", r.address);
        }
    }
    let _ = writeln!(out, "}}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const EXAMPLES: [&str; 6] = [
        "aws-byoc",
        "aws-self-managed",
        "gcp-byoc",
        "gcp-self-managed",
        "azure-byoc",
        "azure-self-managed",
    ];

    /// The plan of an example profile, from its golden files (the planning core knows no
    /// cloud, so it reads the plan the clouds built, as tests/examples.rs keeps it): the
    /// header lists the resources in plan order, the area files hold them.
    fn example(name: &str) -> Plan {
        let golden = |file: &std::path::Path| -> Value {
            let text = std::fs::read_to_string(file).unwrap();
            serde_json::from_str(text.splitn(3, "---\n").nth(2).unwrap()).unwrap()
        };
        let dir = std::path::Path::new("tests/snapshots");
        let mut header = golden(&dir.join(format!("examples__{name}.json.snap")));
        let mut by_address: std::collections::HashMap<String, Value> = Default::default();
        let prefix = format!("examples__{name}.");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            // `examples__aws-byoc.network.snap`, not `examples__aws-byoc-x…` nor the
            // header and table.
            let Some(area) = file
                .strip_prefix(&prefix)
                .and_then(|f| f.strip_suffix(".snap"))
            else {
                continue;
            };
            if area.contains('.') || area == "json" || area == "table" {
                continue;
            }
            for r in golden(&path).as_array().unwrap() {
                by_address.insert(r["address"].as_str().unwrap().to_string(), r.clone());
            }
        }
        let resources: Vec<Value> = header["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| by_address.remove(a.as_str().unwrap()).unwrap())
            .collect();
        header["resources"] = Value::Array(resources);
        header["resource_changes"] = Value::Array(Vec::new());
        let mut plan: Plan = serde_json::from_value(header).unwrap();
        plan.resource_changes = super::super::diff::against_nothing(&plan.resources);
        plan
    }

    fn change<'a>(plan: &'a mut Plan, address: &str) -> &'a mut Change {
        plan.resource_changes
            .iter_mut()
            .find(|c| c.address == address)
            .unwrap()
    }

    /// An applied AWS plan whose cluster security group drifted (a rule was added outside
    /// unionctl), whose node group is replaced and whose metadata bucket is deleted.
    fn drifted() -> Plan {
        let mut plan = example("aws-self-managed");
        for c in &mut plan.resource_changes {
            c.before = c.after.clone();
            c.action = Action::NoOp;
        }
        let sg = change(&mut plan, "aws.security_group.cluster");
        let added = json!({ "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{ "CidrIp": "203.0.113.7/32", "Description": "egress to the control plane and tunnel" }] });
        sg.before["IpPermissionsEgress"]
            .as_array_mut()
            .unwrap()
            .insert(1, added);
        sg.before["Description"] = json!("unionctl data plane: no ingress from the internet; egress 443, 22 and 7844 only, changed by hand");
        sg.changed_paths = vec!["/IpPermissionsEgress".into(), "/Description".into()];
        (sg.action, sg.drift) = (Action::Update, true);
        let workers = change(&mut plan, "aws.eks_node_group.workers");
        workers.before["instanceTypes"] = json!(["m6i.xlarge"]);
        workers.changed_paths = vec!["/instanceTypes".into()];
        workers.replace_paths = workers.changed_paths.clone();
        workers.action = Action::Replace;
        let role = change(&mut plan, "aws.iam_role.workload_worker_production");
        role.before["MaxSessionDuration"] = json!(43200);
        role.changed_paths = vec!["/MaxSessionDuration".into()];
        (role.action, role.drift) = (Action::Update, true);
        let bucket = change(&mut plan, "aws.s3_bucket.metadata");
        (bucket.action, bucket.after) = (Action::Delete, Value::Null);
        bucket.blocked = Some("`aws.s3_bucket.metadata` holds 3 objects: apply never deletes data; empty it first, or keep it in the profile".into());
        plan
    }

    fn too_wide(text: &str, width: usize) -> Vec<String> {
        text.lines()
            .filter(|l| cols(l) > width)
            .map(|l| format!("{} columns: {l}", cols(l)))
            .collect::<Vec<_>>()
    }

    #[test]
    fn every_example_table_fits_100_columns() {
        for name in EXAMPLES {
            let plan = example(name);
            let text = table(&plan);
            assert_eq!(
                too_wide(&text, 100),
                Vec::<String>::new(),
                "{name}:\n{text}"
            );
            for c in plan
                .resource_changes
                .iter()
                .filter(|c| c.action != Action::NoOp)
            {
                assert!(
                    text.lines().any(|l| l.contains(&format!(" {}", c.address))),
                    "{name}: {} not shown whole:\n{text}",
                    c.address
                );
            }
            let coloured = table_styled(
                &plan,
                &TableStyle {
                    color: true,
                    width: 100,
                },
            );
            assert!(
                coloured
                    .lines()
                    .all(|l| console::measure_text_width(l) <= 100),
                "{name}"
            );
        }
        let text = table(&drifted());
        assert_eq!(too_wide(&text, 100), Vec::<String>::new(), "{text}");
    }

    #[test]
    fn other_widths_are_kept_too() {
        for width in [60, 80, 120, 240] {
            for name in ["gcp-byoc", "azure-byoc"] {
                let text = table_styled(
                    &example(name),
                    &TableStyle {
                        color: false,
                        width,
                    },
                );
                assert_eq!(
                    too_wide(&text, width),
                    Vec::<String>::new(),
                    "{name} at {width}:\n{text}"
                );
            }
            let text = table_styled(
                &drifted(),
                &TableStyle {
                    color: false,
                    width,
                },
            );
            assert_eq!(
                too_wide(&text, width),
                Vec::<String>::new(),
                "drifted at {width}:\n{text}"
            );
            if width >= 80 {
                // What a terminal of unknown size gets: the drift note on the row.
                for address in [
                    "aws.security_group.cluster",
                    "aws.iam_role.workload_worker_production",
                ] {
                    assert!(
                        text.lines()
                            .any(|l| l.contains(&format!("~ update    {address}"))
                                && l.contains(DRIFT)),
                        "{address} at {width}:\n{text}"
                    );
                }
            }
        }
        // Wide enough, one line per row as before.
        let plan = example("aws-byoc");
        let text = table_styled(
            &plan,
            &TableStyle {
                color: false,
                width: 240,
            },
        );
        let listed = plan
            .resource_changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .count();
        assert_eq!(
            text.lines()
                .filter(|l| l.starts_with("  + create") || l.starts_with("  <= read"))
                .count(),
            listed
        );
        assert_eq!(
            text.lines().filter(|l| l.starts_with("   ")).count(),
            0,
            "{text}"
        );
    }

    /// The lines from a stage's header to the blank line after its rows.
    fn stage_blocks(text: &str) -> Vec<Vec<&str>> {
        let lines: Vec<&str> = text.lines().collect();
        let mut out = Vec::new();
        for i in (0..lines.len()).filter(|i| lines[*i].starts_with("  ACTION")) {
            out.push(
                lines[i..]
                    .iter()
                    .take_while(|l| !l.is_empty())
                    .copied()
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn aws_and_azure_examples_take_one_line_a_resource() {
        for name in [
            "aws-byoc",
            "aws-self-managed",
            "azure-byoc",
            "azure-self-managed",
        ] {
            let plan = example(name);
            let text = table(&plan);
            let rows: Vec<&str> = stage_blocks(&text)
                .into_iter()
                .flat_map(|b| b.into_iter().skip(1))
                .collect();
            let listed = plan
                .resource_changes
                .iter()
                .filter(|c| c.action != Action::NoOp)
                .count();
            assert_eq!(rows.len(), listed, "{name}:\n{text}");
            assert!(
                rows.iter()
                    .all(|l| l.starts_with("  ") && !l.starts_with("   ")),
                "{name}:\n{text}"
            );
        }
        let text = table(&example("aws-byoc"));
        let row = text
            .lines()
            .find(|l| l.contains(" aws.s3_bucket.audit_logs "))
            .unwrap();
        assert!(row.ends_with("  customer  2 3 4 8"), "{row}");
        assert!(
            !text.contains("acme-prod-audit-logs"),
            "no NAME column:\n{text}"
        );
    }

    #[test]
    fn long_addresses_put_owner_and_invariants_under_their_columns() {
        for width in [60, 80, 100] {
            let plan = example("gcp-byoc");
            let text = table_styled(
                &plan,
                &TableStyle {
                    color: false,
                    width,
                },
            );
            let blocks = stage_blocks(&text);
            let mut seen = 0;
            let mut split = 0;
            for block in &blocks {
                let (owner_col, invariants_col) = (
                    block[0].find("OWNER").unwrap(),
                    block[0].find("INVARIANTS").unwrap(),
                );
                let mut i = 1;
                while i < block.len() {
                    let row = block[i];
                    assert!(
                        !row.starts_with("   "),
                        "a row starts with its action at {width}:\n{text}"
                    );
                    let cells = if block.get(i + 1).is_some_and(|l| l.starts_with("   ")) {
                        split += 1;
                        i += 1;
                        block[i]
                    } else {
                        row
                    };
                    let owner: String = cells.chars().skip(owner_col).take(OWNER_WIDTH).collect();
                    assert!(
                        owner.trim() == "customer" || owner.trim() == "union",
                        "{width}: {cells:?}\n{text}"
                    );
                    assert_eq!(
                        cells.chars().nth(owner_col - 1),
                        Some(' '),
                        "{width}: {cells:?}"
                    );
                    let numbers: Vec<usize> = cells
                        .chars()
                        .skip(invariants_col)
                        .collect::<String>()
                        .split_whitespace()
                        .map(|n| n.parse().unwrap())
                        .collect();
                    assert!(
                        numbers.iter().all(|n| (1..=9).contains(n)) && numbers.is_sorted(),
                        "{width}: {cells:?}"
                    );
                    if width == 100 {
                        // The address whole on its line, the numbers of its invariants.
                        let c = plan
                            .resource_changes
                            .iter()
                            .find(|c| row.split_whitespace().nth(2) == Some(c.address.as_str()))
                            .unwrap_or_else(|| panic!("{row}"));
                        let mut expected: Vec<usize> = plan
                            .resource(&c.address)
                            .unwrap()
                            .controls
                            .iter()
                            .map(|i| i.number())
                            .collect();
                        expected.sort_unstable();
                        assert_eq!(numbers, expected, "{}", c.address);
                    }
                    seen += 1;
                    i += 1;
                }
            }
            assert_eq!(
                seen,
                plan.resource_changes
                    .iter()
                    .filter(|c| c.action != Action::NoOp)
                    .count(),
                "{width}:\n{text}"
            );
            assert!(
                split > 0,
                "the longest GCP addresses do not fit beside their cells at {width}"
            );
            if width == 100 {
                let longest = plan
                    .resource_changes
                    .iter()
                    .map(|c| cols(&c.address))
                    .max()
                    .unwrap();
                assert!(
                    split < seen / 4,
                    "only the longest addresses split their rows:\n{text}"
                );
                let address = &plan
                    .resource_changes
                    .iter()
                    .find(|c| cols(&c.address) == longest)
                    .unwrap()
                    .address;
                assert!(
                    text.lines().any(|l| l.ends_with(&format!(" {address}"))),
                    "{text}"
                );
            }
        }
    }

    #[test]
    fn the_legend_names_the_numbers_shown() {
        for name in EXAMPLES {
            let plan = example(name);
            for width in [60, 100] {
                let text = table_styled(
                    &plan,
                    &TableStyle {
                        color: false,
                        width,
                    },
                );
                let lines: Vec<&str> = text.lines().collect();
                let at = lines
                    .iter()
                    .position(|l| l.starts_with("Invariants: "))
                    .unwrap_or_else(|| panic!("{name}:\n{text}"));
                let block: Vec<&str> = lines[at..]
                    .iter()
                    .take_while(|l| !l.is_empty())
                    .copied()
                    .collect();
                assert!(
                    block
                        .iter()
                        .skip(1)
                        .all(|l| l.starts_with(&" ".repeat(12)) && !l.starts_with(&" ".repeat(13))),
                    "{name}:\n{text}"
                );
                assert!(block.iter().all(|l| cols(l) <= width), "{name}:\n{text}");
                // Entries are not broken across lines.
                for l in &block[1..] {
                    let first = l.trim_start();
                    assert!(
                        first.starts_with(SECURITY_DOC)
                            || first.split(' ').next().unwrap().parse::<usize>().is_ok(),
                        "{l}"
                    );
                }
                let shown: std::collections::BTreeSet<usize> = plan
                    .resource_changes
                    .iter()
                    .filter(|c| c.action != Action::NoOp)
                    .flat_map(|c| {
                        plan.resource(&c.address)
                            .unwrap()
                            .controls
                            .iter()
                            .map(|i| i.number())
                    })
                    .collect();
                let entries: Vec<String> = Invariant::ALL
                    .iter()
                    .filter(|i| shown.contains(&i.number()))
                    .map(|i| format!("{} {}", i.number(), i.slug()))
                    .collect();
                let joined = block.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
                assert_eq!(
                    joined,
                    format!("Invariants: {} {SECURITY_DOC}", entries.join(", ")),
                    "{name}"
                );
                // After the table, before the summary.
                assert!(
                    lines[at + block.len()..]
                        .iter()
                        .any(|l| l.starts_with("Plan: ")),
                    "{name}:\n{text}"
                );
                assert!(
                    lines[..at].iter().any(|l| l.starts_with("  ACTION")),
                    "{name}"
                );
            }
        }
        assert!(
            !table(&example("aws-byoc")).contains("least-privilege, tenant-isolation"),
            "slugs only in the legend"
        );
    }

    #[test]
    fn a_list_element_added_is_shown_with_what_sets_it_apart() {
        let text = table(&drifted());
        // The rule added outside unionctl is what apply removes; its port and address show.
        let lines: Vec<&str> = text.lines().collect();
        let path = lines
            .iter()
            .position(|l| l.trim() == "/IpPermissionsEgress:")
            .unwrap_or_else(|| panic!("{text}"));
        let element = lines[path + 1].trim();
        assert!(element.starts_with("- {"), "{text}");
        assert!(
            element.contains(r#"Port":22,"ToPort":22"#) && element.contains("203.0.113.7/32"),
            "{element}"
        );
        assert!(cols(element) <= 100 - ELEMENT, "{element}");
        assert_eq!(
            lines[path + 2].trim_start().chars().next(),
            Some('/'),
            "one element only:\n{text}"
        );
        // The drift note stays on the row; a short list stays `before → after`.
        assert!(
            lines
                .iter()
                .any(|l| l.contains("~ update    aws.security_group.cluster") && l.contains(DRIFT)),
            "{text}"
        );
        assert!(
            text.contains(
                "/instanceTypes: [\"m6i.xlarge\"] → [\"m6i.2xlarge\"]  # forces replacement"
            ),
            "{text}"
        );
        assert!(
            text.contains("! refused: `aws.s3_bucket.metadata` holds 3 objects"),
            "{text}"
        );
        // A long string keeps in view where it differs.
        let description = lines
            .iter()
            .find(|l| l.trim_start().starts_with("/Description:"))
            .unwrap();
        assert!(
            description.contains("22 and 7844") && description.contains("443 and 7844"),
            "{description}"
        );
    }

    #[test]
    fn elements_added_and_removed_are_listed_one_a_line() {
        let long = |cidr: &str| json!({ "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{ "CidrIp": cidr, "Description": "a description long enough that the element has to be shortened to fit" }] });
        let mut c = Change {
            address: "t.sg.a".into(),
            action: Action::Update,
            owner: Party::Customer,
            stage: Party::Customer,
            before: json!({ "rules": [long("10.0.0.0/16"), long("10.1.0.0/16")], "tags": { "a": "1", "b": "2" } }),
            after: json!({ "rules": [long("10.0.0.0/16"), long("10.2.0.0/16"), long("10.1.0.0/16")], "tags": { "a": "1", "b": "3", "c": "4" } }),
            changed_paths: vec!["/rules".into(), "/tags".into()],
            replace_paths: Vec::new(),
            drift: false,
            depends_on: Vec::new(),
            holds: None,
            blocked: None,
        };
        let text: Vec<String> = c
            .changed_paths
            .iter()
            .flat_map(|p| path_lines(&c, p, 100))
            .map(|l| l.render(false))
            .collect();
        assert_eq!(text.len(), 3, "{text:#?}");
        assert_eq!(text[0].trim(), "/rules:");
        let added = text[1].trim();
        assert!(
            added.starts_with("+ {\"IpProtocol\"")
                && added.ends_with('}')
                && added.contains("10.2.0.0/16"),
            "{added}"
        );
        assert!(cols(&text[1]) <= 100);
        // Wide enough for both whole: as they are.
        assert_eq!(
            text[2].trim(),
            r#"/tags: {"a":"1","b":"2"} → {"a":"1","b":"3","c":"4"}"#
        );
        // Narrow: the keys that differ.
        let tags: Vec<String> = path_lines(&c, "/tags", 40)
            .iter()
            .map(|l| l.render(false).trim().to_string())
            .collect();
        assert_eq!(tags, vec!["/tags:", r#"~ b: "2" → "3""#, r#"+ c: "4""#]);
        let removed = json!({ "rules": [long("10.0.0.0/16")] });
        c.after = removed;
        let text: Vec<String> = path_lines(&c, "/rules", 100)
            .iter()
            .map(|l| l.render(false))
            .collect();
        assert_eq!(text.len(), 2, "{text:#?}");
        assert!(
            text[1].trim().starts_with("- {") && text[1].contains("10.1.0.0/16"),
            "{text:#?}"
        );
    }

    #[test]
    fn shortening_keeps_start_end_and_the_difference() {
        assert_eq!(elide("abcdefghij", None, 10), "abcdefghij");
        assert_eq!(elide("abcdefghij", None, 5), "ab…ij");
        let before =
            "arn:aws:iam::123456789012:role/acme-prod-w-development-a-long-suffix-that-goes-on";
        let after = "arn:aws:iam::123456789012:role/acme-prod-w-staging-a-long-suffix-that-goes-on";
        let (fb, fa) = focus(before, after);
        let (b, a) = (elide(before, Some(fb), 40), elide(after, Some(fa), 40));
        assert!(
            b.starts_with("arn:") && b.ends_with("on") && b.contains("development"),
            "{b}"
        );
        assert!(
            a.starts_with("arn:") && a.ends_with("on") && a.contains("staging"),
            "{a}"
        );
        assert!(cols(&b) <= 40 && cols(&a) <= 40);
        // A difference longer than the room: its own start and end.
        let x = format!("start-{}-end", "x".repeat(100));
        let y = format!("start-{}-end", "y".repeat(100));
        let (fx, _) = focus(&x, &y);
        let e = elide(&x, Some(fx), 30);
        assert!(
            cols(&e) <= 30 && e.starts_with("st") && e.ends_with("nd") && e.contains("xxx"),
            "{e}"
        );
        for max in 0..12 {
            assert!(cols(&elide("0123456789abcdef", Some((7, 9)), max)) <= max);
        }
    }

    #[test]
    fn colour_only_when_asked() {
        let plan = drifted();
        let plain = table_styled(
            &plan,
            &TableStyle {
                color: false,
                width: 100,
            },
        );
        assert!(!plain.contains('\u{1b}'), "{plain}");
        assert_eq!(plain, table(&plan));
        let coloured = table_styled(
            &plan,
            &TableStyle {
                color: true,
                width: 100,
            },
        );
        assert_eq!(
            console::strip_ansi_codes(&coloured),
            plain,
            "colour changes no layout"
        );
        let painted = |tone, text: &str| paint(text, tone, true);
        for (tone, text) in [
            (Tone::Yellow, "~ update"),
            (Tone::Magenta, "-/+ replace"),
            (Tone::Red, "- delete"),
            (Tone::Yellow, DRIFT),
            (Tone::RedBold, "! refused:"),
            (Tone::Red, FORCES),
            (Tone::Red, "-"),
        ] {
            assert!(
                coloured.contains(&painted(tone, text)),
                "{text} is not coloured"
            );
        }
        assert_eq!(
            painted(Tone::Green, "+ create"),
            "\u{1b}[32m+ create\u{1b}[0m"
        );
        let created = table_styled(
            &example("gcp-byoc"),
            &TableStyle {
                color: true,
                width: 100,
            },
        );
        assert!(
            created.contains(&painted(Tone::Green, "+ create"))
                && created.contains(&painted(Tone::Cyan, "<= read")) == created.contains("<= read")
        );
    }
}
