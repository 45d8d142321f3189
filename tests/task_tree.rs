//! The task tree (`format_task_tree`) and one task's call graph (`format_call_graph`).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use tulip::{EventLoop, Lock, format_call_graph, gather, get_running_loop, sleep};

const FILE: &str = "tests/task_tree.rs";

/// main gathers a sleeper and a task blocked on a lock main holds; a timer takes the tree
/// and the sleeper's call graph while all three are suspended. Returns them and the lines
/// of main's wait, the sleep and the acquire.
fn snapshot() -> (String, String, [u32; 3]) {
    let taken = Rc::new(RefCell::new((String::new(), String::new())));
    let t = taken.clone();
    let lines = Rc::new(RefCell::new([0; 3]));
    let ls = lines.clone();
    let lp = EventLoop::new().unwrap();
    let main = lp
        .create_task(move |co| {
            let lp = get_running_loop()?;
            let lock = Lock::new();
            lock.acquire(co)?;
            let ls2 = ls.clone();
            let sleeper = lp.create_task(move |co| {
                ls2.borrow_mut()[1] = line!() + 1;
                sleep(co, Duration::from_millis(30))
            })?;
            sleeper.set_name("sleeper");
            let (l, ls2) = (lock.clone(), ls.clone());
            let locker = lp.create_task(move |co| {
                ls2.borrow_mut()[2] = line!() + 1;
                l.acquire(co)?;
                l.release()
            })?;
            locker.set_name("locker");
            let (lp2, s) = (lp.clone(), sleeper.as_any());
            lp.call_later(Duration::from_millis(5), move || {
                *t.borrow_mut() = (lp2.format_task_tree(), format_call_graph(&s));
            })?;
            let l = lock.clone();
            lp.call_later(Duration::from_millis(10), move || l.release().unwrap())?;
            let both = gather(&[sleeper, locker])?;
            ls.borrow_mut()[0] = line!() + 1;
            co.wait(&both)?;
            Ok(())
        })
        .unwrap();
    main.set_name("main");
    lp.run_until_complete(&main).unwrap();
    lp.close().unwrap();
    let (tree, graph) = taken.borrow().clone();
    let lines = *lines.borrow();
    (tree, graph, lines)
}

#[test]
fn the_tree_names_each_task_with_its_wait_site_and_edges() {
    let (tree, _, [main_at, sleep_at, lock_at]) = snapshot();
    let lines: Vec<&str> = tree.lines().collect();
    assert_eq!(lines.len(), 6, "{tree}");
    // main is the root, and awaits both through the gathering.
    assert!(lines[0].starts_with("└── (T) main  created at "), "{tree}");
    assert!(
        lines[1].starts_with(&format!("    └──  co.wait() at {FILE}:{main_at}:"))
            && lines[1].ends_with(" on <_GatheringFuture pending>"),
        "{tree}"
    );
    assert!(
        lines[2].starts_with(&format!("        ├── (T) sleeper  created at {FILE}:")),
        "{tree}"
    );
    assert!(
        lines[3].starts_with(&format!("        │   └──  sleep() at {FILE}:{sleep_at}:"))
            && lines[3].ends_with(" on <Future pending>"),
        "{tree}"
    );
    assert!(
        lines[4].starts_with(&format!("        └── (T) locker  created at {FILE}:")),
        "{tree}"
    );
    assert!(
        lines[5].starts_with(&format!(
            "            └──  Lock.acquire() at {FILE}:{lock_at}:"
        )),
        "{tree}"
    );
}

#[test]
fn the_call_graph_shows_the_task_and_who_awaits_it() {
    let (_, graph, [main_at, sleep_at, _]) = snapshot();
    let expected = format!(
        "* Task(name='sleeper')
  + Call stack:
  |   File '{FILE}', line {sleep_at}, in sleep()
  + Awaited by:
    * Task(name='main')
      + Call stack:
      |   File '{FILE}', line {main_at}, in co.wait(<_GatheringFuture pending>)
"
    );
    assert_eq!(graph, expected);
}

#[test]
fn a_task_awaiting_a_task_is_its_parent_and_a_done_loop_has_no_tree() {
    let lp = EventLoop::new().unwrap();
    let tree = Rc::new(RefCell::new(String::new()));
    let t = tree.clone();
    let outer = lp
        .create_task(move |co| {
            let lp = get_running_loop()?;
            let inner = lp.create_task(|co| co.wait(&get_running_loop()?.create_future::<()>()))?;
            inner.set_name("inner");
            let (lp2, i) = (lp.clone(), inner.clone());
            lp.call_soon(move || {
                *t.borrow_mut() = lp2.format_task_tree();
                i.cancel(None);
            })?;
            let _ = co.wait(&inner);
            Ok(())
        })
        .unwrap();
    outer.set_name("outer");
    lp.run_until_complete(&outer).unwrap();
    let tree = tree.borrow();
    let lines: Vec<&str> = tree.lines().collect();
    assert!(lines[0].starts_with("└── (T) outer"), "{tree}");
    assert!(lines[1].ends_with(" on Task 'inner'"), "{tree}");
    assert!(lines[2].starts_with("        └── (T) inner"), "{tree}");
    assert!(lp.format_task_tree().is_empty());
    lp.close().unwrap();
}

#[test]
fn a_task_joining_a_task_is_its_parent_with_the_join_site() {
    let lp = EventLoop::new().unwrap();
    let taken = Rc::new(RefCell::new((String::new(), String::new(), 0)));
    let t = taken.clone();
    let outer = lp
        .create_task(move |co| {
            let lp = get_running_loop()?;
            let inner = lp.create_task(|co| co.wait(&get_running_loop()?.create_future::<()>()))?;
            inner.set_name("inner");
            let (lp2, i, t2) = (lp.clone(), inner.clone(), t.clone());
            lp.call_soon(move || {
                let graph = format_call_graph(&i.as_any());
                let mut t = t2.borrow_mut();
                (t.0, t.1) = (lp2.format_task_tree(), graph);
                i.cancel(None);
            })?;
            t.borrow_mut().2 = line!() + 1;
            let _ = co.join(inner);
            Ok(())
        })
        .unwrap();
    outer.set_name("outer");
    lp.run_until_complete(&outer).unwrap();
    lp.close().unwrap();
    let (tree, graph, line) = taken.borrow().clone();
    let lines: Vec<&str> = tree.lines().collect();
    assert!(lines[0].starts_with("└── (T) outer"), "{tree}");
    assert!(
        lines[1].starts_with(&format!("    └──  co.join() at {FILE}:{line}:"))
            && lines[1].ends_with(" on Task 'inner'"),
        "{tree}"
    );
    assert!(lines[2].starts_with("        └── (T) inner"), "{tree}");
    assert!(
        graph.contains(&format!(
            "      |   File '{FILE}', line {line}, in co.join(Task 'inner')"
        )),
        "{graph}"
    );
}
