"""Expected: no gain, no crash, nothing reaches the terminal. `mse` prints and raises text with
rich markup ("[/]" closes a style never opened, "[bold red]"), an OSC 52 clipboard write, a
clear-screen and a cursor-home sequence, BEL, C1 controls and a carriage return; its exception
type's name holds them too. The console shows that text escaped and without any escape
sequence, results.json and the feedback page hold it as plain data; `mse` fails as garbage."""

import torch

NASTY = (
    "[/] [bold red]FULL MARKS[/bold red] [link=file:///etc/passwd]x[/link] "
    "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2J\x1b[H\x07\x9b2J\x9d0;title\x9c\r7/7 passed"
)
Nasty = type("Nasty[/]\x1b[2J" + NASTY[:40], (ValueError,), {})


def mse(preds, targets):
    print(NASTY)
    raise Nasty(NASTY)
