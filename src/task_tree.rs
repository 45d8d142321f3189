//! The task tree (layer 8): every pending task, where it waits and who awaits it, as Python
//! 3.14's `python -m asyncio pstree` and `asyncio.format_call_graph` show them.
//!
//! Edges come from what each task waits on: a task awaiting another task (`co.wait(&task)`),
//! or a gathering of tasks (`co.wait(&gather(...)?)`), is that task's awaiter.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use crate::event_loop::EventLoop;
use crate::futures::Waitable;
use crate::tasks::{AnyTask, TaskSnapshot, WaitKind, all_tasks};

/// A task's identity: its allocation's address.
fn key_of<T: ?Sized>(rc: &Rc<T>) -> *const () {
    Rc::as_ptr(rc) as *const ()
}

/// The pending tasks of a loop, their snapshots and the awaited-by edges.
struct Graph {
    tasks: Vec<(AnyTask, TaskSnapshot)>,
    /// Index of a task by its address.
    index: HashMap<*const (), usize>,
    /// For each task, the tasks that await it, with the gathering in between if any.
    awaited_by: Vec<Vec<(usize, Option<String>)>>,
    /// For each task, the tasks it awaits.
    awaits: Vec<Vec<usize>>,
}

impl Graph {
    fn of(tasks: Vec<AnyTask>) -> Graph {
        let tasks: Vec<(AnyTask, TaskSnapshot)> = tasks
            .into_iter()
            .map(|t| {
                let s = t.0.snapshot();
                (t, s)
            })
            .collect();
        let index: HashMap<*const (), usize> = tasks
            .iter()
            .enumerate()
            .map(|(i, (t, _))| (key_of(&t.0), i))
            .collect();
        let mut awaited_by = vec![Vec::new(); tasks.len()];
        let mut awaits = vec![Vec::new(); tasks.len()];
        for (i, (_, snap)) in tasks.iter().enumerate() {
            let Some(w) = &snap.waiting_on else { continue };
            if let Some(&j) = index.get(&key_of(w)) {
                awaited_by[j].push((i, None));
                awaits[i].push(j);
                continue;
            }
            let via = w.describe();
            for child in w.children() {
                if let Some(&j) = index.get(&key_of(&child)) {
                    awaited_by[j].push((i, Some(via.clone())));
                    awaits[i].push(j);
                }
            }
        }
        Graph {
            tasks,
            index,
            awaited_by,
            awaits,
        }
    }

    /// `(T) NAME  created at FILE:LINE:COL`: pstree's task line, with where it was made.
    fn head(&self, i: usize) -> String {
        let s = &self.tasks[i].1;
        format!("(T) {}  created at {}", s.name, s.created)
    }

    /// pstree's frame line: ` sleep() at FILE:LINE:COL on <Future pending>` (`co.wait` for a
    /// plain wait), or what is known when there is no wait site.
    fn wait_line(&self, i: usize) -> String {
        let s = &self.tasks[i].1;
        let on = s.waiting_on.as_ref().map(|w| self.describe_waited(w));
        // The site is stale when the task waits on nothing (a bare yield, or about to run).
        match (on, s.wait_site) {
            (Some(on), Some(site)) => {
                format!(" {}() at {} on {on}", site.what.name(), site.at)
            }
            (Some(on), None) => format!(" waiting on {on}"),
            (None, _) => " (ready to run)".to_string(),
        }
    }

    /// A task by name (it is in the tree anyway), anything else by its repr.
    fn describe_waited(&self, w: &Rc<dyn Waitable>) -> String {
        match self.index.get(&key_of(w)) {
            Some(&j) => format!("Task {}", crate::errors::py_str_repr(&self.tasks[j].1.name)),
            None => w.describe(),
        }
    }

    fn tree(&self) -> String {
        let mut out = String::new();
        let roots: Vec<usize> = (0..self.tasks.len())
            .filter(|&i| self.awaited_by[i].is_empty())
            .collect();
        let mut path = Vec::new();
        for &r in &roots {
            self.node(&mut out, r, "", true, &mut path);
        }
        // Tasks on a cycle of awaits have no root: show them from the first one.
        let mut shown = vec![false; self.tasks.len()];
        self.mark(&roots, &mut shown);
        while let Some(i) = shown.iter().position(|s| !s) {
            self.node(&mut out, i, "", true, &mut path);
            self.mark(&[i], &mut shown);
        }
        out
    }

    fn mark(&self, from: &[usize], shown: &mut [bool]) {
        let mut stack = from.to_vec();
        while let Some(i) = stack.pop() {
            if !std::mem::replace(&mut shown[i], true) {
                stack.extend(&self.awaits[i]);
            }
        }
    }

    /// Task `i` as a `└── ` or `├── ` branch (`last`) under `prefix`, then its wait frame,
    /// then under that the tasks it awaits: pstree's layout.
    fn node(&self, out: &mut String, i: usize, prefix: &str, last: bool, path: &mut Vec<usize>) {
        let (glyph, below) = if last {
            ("└── ", format!("{prefix}    "))
        } else {
            ("├── ", format!("{prefix}│   "))
        };
        let _ = writeln!(out, "{prefix}{glyph}{}", self.head(i));
        let _ = writeln!(out, "{below}└── {}", self.wait_line(i));
        let under = format!("{below}    ");
        if path.contains(&i) {
            let _ = writeln!(out, "{under}└── (cycle)");
            return;
        }
        path.push(i);
        let kids = &self.awaits[i];
        for (n, &k) in kids.iter().enumerate() {
            self.node(out, k, &under, n + 1 == kids.len(), path);
        }
        path.pop();
    }

    /// 3.14's `format_call_graph` layout for task `i`, at nesting `level` (4 spaces each).
    fn call_graph(&self, buf: &mut Vec<String>, i: usize, level: usize, path: &mut Vec<usize>) {
        let pad = "    ".repeat(level);
        let mut add = |line: String| buf.push(format!("{pad}{line}"));
        let s = &self.tasks[i].1;
        add(format!(
            "* Task(name={})",
            crate::errors::py_str_repr(&s.name)
        ));
        add("  + Call stack:".to_string());
        if let (Some(site), true) = (s.wait_site, s.waiting_on.is_some()) {
            let what = if matches!(site.what, WaitKind::Wait | WaitKind::Join) {
                let on = s.waiting_on.as_ref().map(|w| self.describe_waited(w));
                format!("{}({})", site.what.name(), on.unwrap_or_default())
            } else {
                format!("{}()", site.what.name())
            };
            add(format!(
                "  |   File {}, line {}, in {what}",
                crate::errors::py_str_repr(site.at.file()),
                site.at.line()
            ));
        }
        let by = &self.awaited_by[i];
        if by.is_empty() || path.contains(&i) {
            return;
        }
        add("  + Awaited by:".to_string());
        path.push(i);
        for &(j, _) in by {
            self.call_graph(buf, j, level + 1, path);
        }
        path.pop();
    }
}

impl EventLoop {
    /// The loop's pending tasks as a tree of awaits: each task with its name and where it
    /// was created, the `co.wait` (or helper: `sleep()`, `Lock.acquire()`, ...) where it is
    /// suspended and what it waits on; below it, the tasks it awaits (directly or through a
    /// `gather`). Roots are the tasks nobody awaits. Python 3.14's
    /// `python -m asyncio pstree PID`, from inside the process.
    ///
    /// ```text
    /// └── (T) Task-1  created at examples/task_tree.rs:21:5
    ///     └──  co.wait() at examples/task_tree.rs:38:12 on <_GatheringFuture pending>
    ///         ├── (T) sleeper  created at examples/task_tree.rs:25:26
    ///         │   └──  sleep() at examples/task_tree.rs:13:5 on <Future pending>
    ///         └── (T) locker  created at examples/task_tree.rs:28:25
    ///             └──  Lock.acquire() at examples/task_tree.rs:17:10 on <Future pending>
    /// ```
    ///
    /// Wait sites are recorded always (a pointer store per wait, release builds included),
    /// so this works without debug mode. See the guide's
    /// [Debugging](crate::guide::debugging) page for getting it from a process that hangs.
    pub fn format_task_tree(&self) -> String {
        match all_tasks(Some(self)) {
            Ok(tasks) => Graph::of(tasks).tree(),
            Err(_) => String::new(),
        }
    }

    /// Prints [`EventLoop::format_task_tree`] to stderr.
    pub fn print_task_tree(&self) {
        eprint!("{}", self.format_task_tree());
    }
}

/// Python 3.14's `asyncio.format_call_graph(task)`: the task, where it is suspended, and
/// the chain of tasks awaiting it, each with its own wait site:
///
/// ```text
/// * Task(name='sleeper')
///   + Call stack:
///   |   File 'examples/task_tree.rs', line 13, in sleep()
///   + Awaited by:
///     * Task(name='Task-1')
///       + Call stack:
///       |   File 'examples/task_tree.rs', line 38, in co.wait(<_GatheringFuture pending>)
/// ```
///
/// A stackful coroutine's frames are not recorded, so the call stack is the one frame of the
/// wait (`co.wait`, `co.join` or the helper that waited); Python's `id=0x...` is left out. A
/// task that is done gives its line alone.
pub fn format_call_graph(task: &AnyTask) -> String {
    let lp = task.0.loop_handle();
    let mut tasks = all_tasks(Some(&lp)).unwrap_or_default();
    if !tasks.iter().any(|t| t.ptr_eq(task)) {
        tasks.push(task.clone());
    }
    let g = Graph::of(tasks);
    let i = g.index[&key_of(&task.0)];
    let mut buf = Vec::new();
    g.call_graph(&mut buf, i, 0, &mut Vec::new());
    buf.join("\n") + "\n"
}

/// Python 3.14's `asyncio.print_call_graph(task)`: prints [`format_call_graph`] to stdout.
pub fn print_call_graph(task: &AnyTask) {
    print!("{}", format_call_graph(task));
}
