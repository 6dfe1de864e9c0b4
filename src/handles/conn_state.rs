//! Connection states C2–C6 (§4.3) plus the DM's own "outstanding connection function"
//! sub-state that Appendix B lacks (§4.4).

/// Connection states of Appendix B.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnState {
    /// Allocated, not connected.
    C2,
    /// SQLBrowseConnect needs more data.
    C3,
    /// Connected, no statements.
    C4,
    /// Connected, statements allocated.
    C5,
    /// Connected, transaction open (manual commit and work done).
    C6,
}

impl ConnState {
    /// Whether a driver connection exists.
    pub fn is_connected(self) -> bool {
        matches!(self, ConnState::C4 | ConnState::C5 | ConnState::C6)
    }
}
