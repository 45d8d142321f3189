//! Async generators (PEP 525): a ticker that sleeps between values, consumed by tasks with
//! `async for`; a pipeline of two; one left unfinished, closed when the program ends.
//! The Python twin is tests/python/async_ticker.py.

use std::time::Duration;

use tulip::{AsyncGenerator, TaskCo, gather, get_running_loop, sleep};

// async def ticker(name, n, delay):
//     try:
//         for i in range(n):
//             await asyncio.sleep(delay)
//             yield f"{name} {i}"
//     finally:
//         print(f"{name} closed")
fn ticker(name: &'static str, n: u32, delay: Duration) -> AsyncGenerator<String> {
    AsyncGenerator::new(move |co| {
        let result = (|| {
            for i in 0..n {
                sleep(co, delay)?;
                co.yield_(format!("{name} {i}"))?;
            }
            Ok(())
        })();
        println!("{name} closed");
        result
    })
}

fn numbers(n: u64) -> AsyncGenerator<u64> {
    AsyncGenerator::new(move |co| {
        for i in 0..n {
            sleep(co, Duration::ZERO)?;
            co.yield_(i)?;
        }
        Ok(())
    })
}

// async def squares(source):
//     async for x in source:
//         yield x * x
fn squares(source: AsyncGenerator<u64>) -> AsyncGenerator<u64> {
    AsyncGenerator::new(move |co| {
        while let Some(x) = source.try_next(co)? {
            co.yield_(x * x)?;
        }
        Ok(())
    })
}

fn consume(co: &TaskCo, agen: AsyncGenerator<String>) -> anyhow::Result<()> {
    while let Some(tick) = agen.try_next(co)? {
        println!("got {tick}");
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    tulip::run(|co| {
        let lp = get_running_loop()?;
        let fast =
            lp.create_task(|co| consume(co, ticker("fast", 3, Duration::from_millis(10))))?;
        let slow =
            lp.create_task(|co| consume(co, ticker("slow", 2, Duration::from_millis(25))))?;
        co.wait(&gather([&fast, &slow])?)?;
        let sq = squares(numbers(5));
        let mut all = Vec::new();
        while let Some(x) = sq.try_next(co)? {
            all.push(x.to_string());
        }
        println!("squares [{}]", all.join(", "));
        let endless = ticker("endless", 1000, Duration::ZERO);
        println!("first of endless: {}", endless.anext(co)?);
        println!("main done");
        Ok(())
    })?;
    println!("after run");
    Ok(())
}
