# The Python twin of examples/task_steps.rs: the talk's hand-driven Task.
# (The talk interrupts with `yield from []`, which in fact does not suspend: a bare
# `yield` does, so the two steps really are two resumptions.)


class Task:
    def __init__(self, coro):
        self.coro = coro

    def step(self):
        try:
            next(self.coro)
        except StopIteration:
            pass


def coroutine():
    print("step 1")
    yield  # interrupt the coroutine
    print("step 2")


task = Task(coroutine())
task.step()  # print "step 1"
task.step()  # print "step 2"
