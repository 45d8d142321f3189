# Case 19 (test_futures.py: callbacks invoked on set_result, remove_done_callback):
# done callbacks run through call_soon, FIFO, after callbacks already queued.
# Rust closures have no identity: the port removes each registration by its id and sums.
import asyncio

loop = asyncio.new_event_loop()


def run_briefly():
    loop.call_soon(loop.stop)
    loop.run_forever()


bag = []


def mk(x):
    def cb(fut):
        bag.append(x)
    return cb


cb1, cb2, cb3 = mk(1), mk(2), mk(3)
f = loop.create_future()
f.add_done_callback(cb1)
f.add_done_callback(cb2)
print("remove cb2 ->", f.remove_done_callback(cb2))
print("remove cb3 ->", f.remove_done_callback(cb3))
f.add_done_callback(cb2)
for i in range(5):
    f.add_done_callback(cb1)
print("remove cb1 ->", f.remove_done_callback(cb1))
f.add_done_callback(cb3)
f.set_result('foo')
print("right after set_result:", bag, "(callbacks are scheduled, not run)")
f.add_done_callback(mk('late'))  # already done -> call_soon immediately
run_briefly()
print("after one loop iteration:", bag)
order = []
g = loop.create_future()
loop.call_soon(order.append, 'soon-before')
g.add_done_callback(lambda _: order.append('done-cb'))
g.set_result(None)
loop.call_soon(order.append, 'soon-after')
run_briefly()
print(order)
loop.close()
