//! The AGE column: kubectl's `HumanDuration` of the time since an RFC 3339
//! timestamp (`creationTimestamp`); `<unknown>` when there is none, as
//! kubectl prints for manifests that never went through an API server.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch of an RFC 3339 timestamp in UTC
/// (`2026-12-01T10:00:00Z`, fractions and offsets accepted).
///
/// ```
/// assert_eq!(svcroute_cli::age::parse_rfc3339("1970-01-02T00:00:01Z"), Some(86401));
/// assert_eq!(svcroute_cli::age::parse_rfc3339("2026-12-01T10:00:00+01:00"),
///            svcroute_cli::age::parse_rfc3339("2026-12-01T09:00:00Z"));
/// assert_eq!(svcroute_cli::age::parse_rfc3339("yesterday"), None);
/// ```
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut rest = &s[19..];
    if let Some(r) = rest.strip_prefix('.') {
        rest = r.trim_start_matches(|c: char| c.is_ascii_digit());
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let oh: i64 = rest.get(1..3)?.parse().ok()?;
            let om: i64 = rest.get(4..6)?.parse().ok()?;
            sign * (oh * 3600 + om * 60)
        }
    };
    // Days from civil (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec - offset)
}

/// kubectl's `duration.HumanDuration` of `seconds`.
///
/// ```
/// use svcroute_cli::age::human_duration;
/// assert_eq!(human_duration(90), "90s");
/// assert_eq!(human_duration(185), "3m5s");
/// assert_eq!(human_duration(3 * 3600 + 120), "3h2m");
/// assert_eq!(human_duration(3 * 86400 + 3600), "3d1h");
/// assert_eq!(human_duration(400 * 86400), "400d");
/// ```
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".to_owned();
    }
    if seconds < 0 {
        return "0s".to_owned();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

/// The AGE cell of an object created at `timestamp`.
///
/// ```
/// assert_eq!(svcroute_cli::age::age(None), "<unknown>");
/// ```
pub fn age(timestamp: Option<&str>) -> String {
    let Some(created) = timestamp.and_then(parse_rfc3339) else {
        return "<unknown>".to_owned();
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    human_duration(now - created)
}
