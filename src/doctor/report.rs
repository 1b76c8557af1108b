//! What a check returns, and the report that collects them.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

/// One check's result.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: Status,
    pub summary: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
}

impl Check {
    pub(crate) fn ok(id: &'static str, summary: impl Into<String>) -> Check {
        Check {
            id,
            status: Status::Ok,
            summary: summary.into(),
            detail: None,
            hint: None,
        }
    }
    pub(crate) fn warn(
        id: &'static str,
        summary: impl Into<String>,
        hint: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Warn,
            hint: Some(hint.into()),
            ..Check::ok(id, summary)
        }
    }
    pub(crate) fn fail(
        id: &'static str,
        summary: impl Into<String>,
        hint: impl Into<String>,
    ) -> Check {
        Check {
            status: Status::Fail,
            hint: Some(hint.into()),
            ..Check::ok(id, summary)
        }
    }
    pub(crate) fn skip(id: &'static str, summary: impl Into<String>) -> Check {
        Check {
            status: Status::Skip,
            ..Check::ok(id, summary)
        }
    }
    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Check {
        self.detail = Some(detail.into());
        self
    }
}

/// Everything checked, in order.
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Report {
    pub(crate) fn push(&mut self, check: Check) {
        self.checks.push(check);
        self.ok = !self.checks.iter().any(|c| c.status == Status::Fail);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_ok_means_no_failure() {
        let mut r = Report::default();
        r.push(Check::ok("a", "fine"));
        r.push(Check::warn("b", "meh", "fix it"));
        assert!(r.ok);
        r.push(Check::fail("c", "bad", "fix it"));
        assert!(!r.ok);
    }
}
