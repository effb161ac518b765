"""Real: torch.optim.SGD with momentum (and nesterov) on copies of the parameters, the velocity as its momentum_buffer.

source: https://github.com/pytorch/pytorch/blob/main/torch/optim/sgd.py
verdict: correct
step: none
diagnosis: none
rules: momentum.no_torch_optim

Original usage: `optimizer = torch.optim.SGD(params, lr=lr, momentum=beta, nesterov=nesterov)`,
`p.grad = g`, `optimizer.step()`; its _single_tensor_sgd does `buf.mul_(momentum).add_(grad)`,
`grad = grad.add(buf, alpha=momentum) if nesterov else buf`, `param.add_(grad, alpha=-lr)`.
Adapted: the velocities are copied into the optimizer state as momentum buffers, and the
updated copies and buffers are returned. nesterov requires beta > 0 in torch, so beta = 0 is a
plain step.
"""


def momentum_step(params, grads, velocities, lr, beta, *, nesterov=False):
    leaves = [p.detach().clone().requires_grad_(True) for p in params]
    optimizer = torch.optim.SGD(leaves, lr=lr, momentum=beta, nesterov=nesterov and beta > 0)
    for leaf, g, v in zip(leaves, grads, velocities):
        leaf.grad = g.detach().clone()
        if beta > 0:
            optimizer.state[leaf]["momentum_buffer"] = v.detach().clone()
    optimizer.step()
    if beta > 0:
        new_velocities = [optimizer.state[leaf]["momentum_buffer"].detach().clone() for leaf in leaves]
    else:
        new_velocities = [g.detach().clone() for g in grads]
    return [leaf.detach() for leaf in leaves], new_velocities
