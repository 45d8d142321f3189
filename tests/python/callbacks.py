# The talk's first snippet ("Callback"), verbatim. Twin of examples/callbacks.rs.
class CallbackEventLoop:
    def __init__(self):
        self.callbacks = []

    def call_soon(self, func):
        self.callbacks.append(func)

    def execute_callback(self):
        callbacks = self.callbacks
        self.callbacks = []
        for cb in callbacks:
            cb()


def hello():
    print("Hello World")


loop = CallbackEventLoop()
loop.call_soon(hello)
loop.execute_callback()
