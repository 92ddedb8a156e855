# Compiled to greet.mpy by the pico_mpy_import scenario (fs: {file: ..., mpy: true}).
def hello(name):
    return "hello " + name


ANSWER = sum(range(7)) * 2
