//! Substring search with LIKE, the same on every backend: the searched text matches literally.

use sea_orm::{
    ColumnTrait,
    sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr},
};

/// `column` contains `part` literally (`%`, `_` and `\` in it are not wildcards).
pub fn contains(column: impl ColumnTrait, part: &str) -> SimpleExpr {
    column.like(pattern(part))
}

/// The lower-cased `column` contains the lower-cased `part`: a search people type, whatever case
/// they remember (each backend's own case folding would differ by collation).
pub fn contains_ignoring_case(column: impl ColumnTrait, part: &str) -> SimpleExpr {
    Expr::expr(Func::lower(Expr::col(column))).like(pattern(&part.to_lowercase()))
}

fn pattern(part: &str) -> LikeExpr {
    LikeExpr::new(format!("%{}%", escape(part))).escape('\\')
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_are_matched_literally() {
        assert_eq!(escape(r"10%_a\b"), r"10\%\_a\\b");
        assert_eq!(escape("plain"), "plain");
    }
}
