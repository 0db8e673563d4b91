//! Short human renderings shared by reports (plan tables and charts, reaper verdicts).

/// `45s`, `3m05s`, `2h07m`: seconds rounded, minutes and seconds under an hour, hours and
/// minutes above.
pub fn duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

/// [`duration`], with the seconds kept above an hour (`1h05m16s`): for comparing figures
/// that differ by less than a minute.
pub fn duration_to_the_second(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, (s % 3600) / 60, s % 60)
    } else {
        duration(seconds)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::duration(44.6), "45s");
        assert_eq!(super::duration(185.0), "3m05s");
        assert_eq!(super::duration(7620.0), "2h07m");
        assert_eq!(super::duration(-1.0), "0s");
        assert_eq!(super::duration_to_the_second(3916.0), "1h05m16s");
        assert_eq!(super::duration_to_the_second(185.0), "3m05s");
    }
}
