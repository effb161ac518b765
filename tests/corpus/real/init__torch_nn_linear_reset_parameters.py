"""Real: torch.nn.Linear.reset_parameters: kaiming_uniform_ weights and a uniform bias in ±1/√fan_in.

source: https://github.com/pytorch/pytorch/blob/main/torch/nn/modules/linear.py
verdict: bug
step: init
diagnosis: uniform_init
also: nonzero_bias, ignores_generator

Original: `init.kaiming_uniform_(self.weight, a=math.sqrt(5))`, then
`bound = 1 / math.sqrt(fan_in); init.uniform_(self.bias, -bound, bound)`. Adapted: a weight
vector of fan_in = n_features inputs (so one output) and a 0-dim bias; like nn.Linear, it
takes no std and no generator. Several mistakes at once (uniform weights, a random bias,
torch's global random state); the most visible is the uniform distribution.
"""


def init_params(n_features, *, std=0.01, generator=None, dtype=torch.float32, device="cpu"):
    weight = torch.empty(1, n_features, dtype=dtype, device=device)
    bias = torch.empty((), dtype=dtype, device=device)
    torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5))
    fan_in = n_features
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    torch.nn.init.uniform_(bias, -bound, bound)
    return weight[0], bias
