//! Iteration over a generator (`for x in gen`).

use std::fmt;

use super::{Generator, GeneratorState};

/// Iteration over a generator that takes no sent value, like Python's `for x in gen`:
/// each item is a yielded value; the iteration ends when the generator returns (the value
/// is dropped) or after the one `Err` it raises.
pub struct Iter<'a, Y, S, R> {
    pub(super) generator: &'a Generator<Y, S, R>,
    pub(super) done: bool,
}

impl<Y, S, R> fmt::Debug for Iter<'_, Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("generator", self.generator)
            .field("done", &self.done)
            .finish()
    }
}

impl<Y: 'static, R: 'static> Iterator for Iter<'_, Y, (), R> {
    type Item = anyhow::Result<Y>;

    fn next(&mut self) -> Option<Self::Item> {
        iter_step(self.generator, &mut self.done)
    }
}

/// Owning iteration (`for x in gen`); see [`Iter`].
pub struct IntoIter<Y, S, R> {
    pub(super) generator: Generator<Y, S, R>,
    pub(super) done: bool,
}

impl<Y, S, R> fmt::Debug for IntoIter<Y, S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("generator", &self.generator)
            .field("done", &self.done)
            .finish()
    }
}

impl<Y: 'static, R: 'static> Iterator for IntoIter<Y, (), R> {
    type Item = anyhow::Result<Y>;

    fn next(&mut self) -> Option<Self::Item> {
        iter_step(&self.generator, &mut self.done)
    }
}

fn iter_step<Y: 'static, R: 'static>(
    generator: &Generator<Y, (), R>,
    done: &mut bool,
) -> Option<anyhow::Result<Y>> {
    if *done || generator.is_finished() {
        return None;
    }
    match generator.send(()) {
        Ok(GeneratorState::Yielded(y)) => Some(Ok(y)),
        Ok(GeneratorState::Returned(_)) => None,
        Err(e) => {
            *done = true;
            Some(Err(e))
        }
    }
}

impl<Y: 'static, R: 'static> IntoIterator for Generator<Y, (), R> {
    type Item = anyhow::Result<Y>;
    type IntoIter = IntoIter<Y, (), R>;

    fn into_iter(self) -> Self::IntoIter {
        IntoIter {
            generator: self,
            done: false,
        }
    }
}

impl<'a, Y: 'static, R: 'static> IntoIterator for &'a Generator<Y, (), R> {
    type Item = anyhow::Result<Y>;
    type IntoIter = Iter<'a, Y, (), R>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}
