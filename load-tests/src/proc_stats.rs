//! Resident memory and CPU time of a process from Linux `/proc`, for the server under test
//! (by pid) and for the load generator itself.

use anyhow::{Context, Result};

/// Clock ticks per second of `/proc/PID/stat` times (`CLK_TCK`, 100 on Linux).
pub const CLK_TCK: f64 = 100.0;

/// Which process to read.
#[derive(Debug, Clone, Copy)]
pub enum Proc {
    Pid(u32),
    Myself,
}

impl Proc {
    fn path(self, file: &str) -> String {
        match self {
            Proc::Pid(pid) => format!("/proc/{pid}/{file}"),
            Proc::Myself => format!("/proc/self/{file}"),
        }
    }

    /// Resident set size in bytes (`VmRSS`).
    pub fn rss_bytes(self) -> Result<u64> {
        let path = self.path("status");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        parse_vm_rss_kib(&text)
            .map(|kib| kib * 1024)
            .with_context(|| format!("no VmRSS in {path}"))
    }

    /// User plus system CPU time in clock ticks.
    pub fn cpu_ticks(self) -> Result<u64> {
        let path = self.path("stat");
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path}"))?;
        parse_cpu_ticks(&text).with_context(|| format!("unexpected format of {path}"))
    }

    /// Both figures at one moment.
    pub fn sample(self) -> Result<ProcSample> {
        Ok(ProcSample {
            rss_bytes: self.rss_bytes()?,
            cpu_ticks: self.cpu_ticks()?,
        })
    }
}

/// Memory and CPU time of a process at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcSample {
    pub rss_bytes: u64,
    pub cpu_ticks: u64,
}

impl ProcSample {
    /// CPU seconds spent between `earlier` and `self`.
    pub fn cpu_seconds_since(&self, earlier: &ProcSample) -> f64 {
        self.cpu_ticks.saturating_sub(earlier.cpu_ticks) as f64 / CLK_TCK
    }
}

/// The `VmRSS:  1234 kB` line of `/proc/PID/status`, in KiB.
pub fn parse_vm_rss_kib(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// `utime + stime` (fields 14 and 15) of `/proc/PID/stat`. The command name (field 2) may
/// hold spaces and parentheses, so fields are counted after its last `)`.
pub fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace();
    // After the command come field 3 (state) .. ; utime is field 14, i.e. the 12th here.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rss_is_read_from_status() {
        let status = "Name:\tluukku\nVmPeak:\t  99999 kB\nVmRSS:\t   20480 kB\nRssAnon:\t1 kB\n";
        assert_eq!(parse_vm_rss_kib(status), Some(20480));
        assert_eq!(parse_vm_rss_kib("Name:\tx\n"), None);
    }

    #[test]
    fn cpu_ticks_survive_odd_command_names() {
        let stat = "4242 (tokio (rt) x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 \
                    250 130 0 0 20 0 9 0 12345 123456789 5000 18446744073709551615";
        assert_eq!(parse_cpu_ticks(stat), Some(380));
        assert_eq!(parse_cpu_ticks("1 (x) S 1 2"), None);
    }

    #[test]
    fn own_process_is_readable() {
        let sample = Proc::Myself.sample().expect("/proc/self readable");
        assert!(sample.rss_bytes > 0);
        let later = ProcSample {
            cpu_ticks: sample.cpu_ticks + 150,
            ..sample
        };
        assert!((later.cpu_seconds_since(&sample) - 1.5).abs() < 1e-9);
    }
}
