//! Flap damping: a check's shown level changes only after `threshold` consecutive results
//! at a new level (`failure_threshold` when it gets worse, `success_threshold` when better).

use crate::model::Level;

#[derive(Clone, Debug, Default)]
pub struct Damper {
    shown: Option<Level>,
    candidate: Option<Level>,
    streak: u32,
}

impl Damper {
    /// Records one result; returns the level to show. The first result is shown at once.
    pub fn observe(&mut self, level: Level, failure_threshold: u32, success_threshold: u32) -> Level {
        let Some(shown) = self.shown else {
            self.shown = Some(level);
            return level;
        };
        if level == shown {
            self.candidate = None;
            self.streak = 0;
            return shown;
        }
        if self.candidate == Some(level) {
            self.streak += 1;
        } else {
            self.candidate = Some(level);
            self.streak = 1;
        }
        let needed = if level > shown { failure_threshold } else { success_threshold };
        if self.streak >= needed.max(1) {
            self.shown = Some(level);
            self.candidate = None;
            self.streak = 0;
            return level;
        }
        shown
    }

    pub fn shown(&self) -> Option<Level> {
        self.shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Level::*;

    #[test]
    fn failures_must_repeat_before_the_level_changes() {
        let mut d = Damper::default();
        assert_eq!(d.observe(Operational, 3, 2), Operational);
        assert_eq!(d.observe(MajorOutage, 3, 2), Operational);
        assert_eq!(d.observe(MajorOutage, 3, 2), Operational);
        assert_eq!(d.observe(MajorOutage, 3, 2), MajorOutage);
        // Recovery needs two in a row; an interruption restarts the count.
        assert_eq!(d.observe(Operational, 3, 2), MajorOutage);
        assert_eq!(d.observe(MajorOutage, 3, 2), MajorOutage);
        assert_eq!(d.observe(Operational, 3, 2), MajorOutage);
        assert_eq!(d.observe(Operational, 3, 2), Operational);
    }

    #[test]
    fn a_flapping_check_stays_put() {
        let mut d = Damper::default();
        d.observe(Operational, 2, 2);
        for _ in 0..10 {
            assert_eq!(d.observe(PartialOutage, 2, 2), Operational);
            assert_eq!(d.observe(Operational, 2, 2), Operational);
        }
    }

    #[test]
    fn thresholds_of_one_follow_every_result() {
        let mut d = Damper::default();
        for l in [Operational, DegradedPerformance, MajorOutage, Operational] {
            assert_eq!(d.observe(l, 1, 1), l);
        }
    }
}
