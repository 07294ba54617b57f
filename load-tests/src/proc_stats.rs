//! Resident memory and CPU time of a process from Linux `/proc`, for the server under test
//! (by pid; one process or several, summed), for the services it relies on (a process with
//! its descendants: PostgreSQL forks one per connection), and for the load generator itself.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;

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

/// Memory and CPU time of a process (or the sum of several) at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcSample {
    pub rss_bytes: u64,
    pub cpu_ticks: u64,
}

impl ProcSample {
    /// CPU seconds spent between `earlier` and `self`.
    pub fn cpu_seconds_since(&self, earlier: &ProcSample) -> f64 {
        self.cpu_ticks.saturating_sub(earlier.cpu_ticks) as f64 / CLK_TCK
    }

    fn plus(self, other: ProcSample) -> ProcSample {
        ProcSample {
            rss_bytes: self.rss_bytes + other.rss_bytes,
            cpu_ticks: self.cpu_ticks + other.cpu_ticks,
        }
    }
}

/// The processes a run reports on, beside the load generator itself.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct WatchArgs {
    /// Pid of the server, for its CPU time and RSS. A server of several processes (the nodes
    /// of a cluster): repeat the flag or separate the pids with commas; their figures are
    /// summed.
    #[arg(long = "server-pid", value_delimiter = ',')]
    pub server_pids: Vec<u32>,
    /// `NAME=PID` of a service the server relies on (`postgresql=…`, `redis=…`): the CPU time
    /// of that process and of its descendants is reported apart, per name. Repeatable.
    #[arg(long = "backing-pid", value_parser = parse_backing)]
    pub backing: Vec<Backing>,
}

/// A named service process (`--backing-pid NAME=PID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backing {
    pub name: String,
    pub pid: u32,
}

fn parse_backing(text: &str) -> Result<Backing> {
    let Some((name, pid)) = text.split_once('=') else {
        bail!("expected NAME=PID, got {text:?}");
    };
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
        bail!("the name of {text:?} must be letters, digits or '-'");
    }
    let pid = pid.parse().with_context(|| format!("no pid in {text:?}"))?;
    Ok(Backing {
        name: name.to_owned(),
        pid,
    })
}

/// The watched processes at one moment.
#[derive(Debug, Clone)]
pub struct WatchSample {
    /// The server's processes, summed (`None` without `--server-pid`).
    server: Option<ProcSample>,
    /// CPU ticks of each service with its descendants.
    backing: Vec<(String, u64)>,
}

/// What the watched processes did between two samples.
#[derive(Debug, Clone, Default)]
pub struct Watched {
    /// The server's figures (summed over its processes) before and after.
    pub server: Option<(ProcSample, ProcSample)>,
    /// CPU seconds of each service with its descendants.
    pub backing_cpu_s: BTreeMap<String, f64>,
}

impl WatchArgs {
    /// Samples every watched process now.
    pub fn sample(&self) -> Result<WatchSample> {
        let server = if self.server_pids.is_empty() {
            None
        } else {
            let mut sum = ProcSample::default();
            for &pid in &self.server_pids {
                sum = sum.plus(Proc::Pid(pid).sample()?);
            }
            Some(sum)
        };
        let backing = if self.backing.is_empty() {
            Vec::new()
        } else {
            let table = process_table()?;
            self.backing
                .iter()
                .map(|b| Ok((b.name.clone(), tree_cpu_ticks(&table, b.pid)?)))
                .collect::<Result<_>>()?
        };
        Ok(WatchSample { server, backing })
    }
}

impl WatchSample {
    /// What happened from `self` until `after`.
    pub fn until(self, after: WatchSample) -> Watched {
        let mut backing_cpu_s = BTreeMap::new();
        for ((name, before), (_, later)) in self.backing.iter().zip(&after.backing) {
            let secs = later.saturating_sub(*before) as f64 / CLK_TCK;
            *backing_cpu_s.entry(name.clone()).or_default() += secs;
        }
        Watched {
            server: self.server.zip(after.server),
            backing_cpu_s,
        }
    }
}

/// The CPU fields of one `/proc/PID/stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct StatLine {
    ppid: u32,
    /// `utime + stime`.
    own_ticks: u64,
    /// `cutime + cstime`: children that exited and were waited for.
    reaped_ticks: u64,
}

/// Every process's stat line by pid (processes that end while being read are left out).
fn process_table() -> Result<BTreeMap<u32, StatLine>> {
    let mut table = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").context("reading /proc")? {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some(line) = parse_stat_line(&text) {
            table.insert(pid, line);
        }
    }
    Ok(table)
}

/// CPU ticks of `root` and every live descendant, each with its reaped children: every tick
/// is counted once, in the live process or in the parent that waited for it.
fn tree_cpu_ticks(table: &BTreeMap<u32, StatLine>, root: u32) -> Result<u64> {
    if !table.contains_key(&root) {
        bail!("no process {root}");
    }
    let mut total = 0;
    let mut stack = vec![root];
    while let Some(pid) = stack.pop() {
        if let Some(line) = table.get(&pid) {
            total += line.own_ticks + line.reaped_ticks;
        }
        stack.extend(
            table
                .iter()
                .filter(|(child, line)| line.ppid == pid && **child != pid)
                .map(|(child, _)| *child),
        );
    }
    Ok(total)
}

/// `ppid` (field 4), `utime + stime` (14, 15) and `cutime + cstime` (16, 17).
fn parse_stat_line(stat: &str) -> Option<StatLine> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_comm.split_whitespace().take(15).collect();
    // fields[0] is field 3 (state): field k is fields[k - 3].
    let field = |k: usize| fields.get(k - 3)?.parse::<u64>().ok();
    Some(StatLine {
        ppid: u32::try_from(field(4)?).ok()?,
        own_ticks: field(14)? + field(15)?,
        reaped_ticks: field(16)? + field(17)?,
    })
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
    fn stat_lines_give_parent_and_reaped_children() {
        let stat = "4242 (postgres: x (y)) S 77 4242 4242 0 -1 4194560 1234 0 0 0 \
                    250 130 40 2 20 0 9 0 12345 123456789 5000";
        let line = parse_stat_line(stat).expect("parsed");
        assert_eq!(
            line,
            StatLine {
                ppid: 77,
                own_ticks: 380,
                reaped_ticks: 42
            }
        );
        let tree = BTreeMap::from([
            (
                1,
                StatLine {
                    ppid: 0,
                    own_ticks: 5,
                    reaped_ticks: 100,
                },
            ),
            (
                10,
                StatLine {
                    ppid: 1,
                    own_ticks: 7,
                    reaped_ticks: 0,
                },
            ),
            (
                11,
                StatLine {
                    ppid: 10,
                    own_ticks: 3,
                    reaped_ticks: 1,
                },
            ),
            (
                20,
                StatLine {
                    ppid: 2,
                    own_ticks: 1000,
                    reaped_ticks: 0,
                },
            ),
        ]);
        assert_eq!(tree_cpu_ticks(&tree, 1).ok(), Some(116));
        assert_eq!(tree_cpu_ticks(&tree, 10).ok(), Some(11));
        assert!(tree_cpu_ticks(&tree, 3).is_err());
    }

    #[test]
    fn backing_pids_parse() {
        let b = parse_backing("postgresql=123").expect("valid");
        assert_eq!((b.name.as_str(), b.pid), ("postgresql", 123));
        for bad in ["postgresql", "=1", "pg=x", "a b=1"] {
            assert!(parse_backing(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn several_server_pids_are_summed() {
        let me = std::process::id();
        let watch = WatchArgs {
            server_pids: vec![me, me],
            backing: vec![Backing {
                name: "self".into(),
                pid: me,
            }],
        };
        let before = watch.sample().expect("sampled");
        let one = Proc::Myself.rss_bytes().expect("rss");
        let server = before.server.expect("server sampled");
        // Twice this process, give or take what it allocated in between.
        assert!(server.rss_bytes > one + one / 2, "{server:?} vs {one}");
        let watched = before.clone().until(before);
        assert_eq!(watched.backing_cpu_s.get("self"), Some(&0.0));
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
