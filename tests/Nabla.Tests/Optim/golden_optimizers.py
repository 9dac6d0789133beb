# Produces the pinned values of OptimizerTests.cs: torch.optim stepped 3 times on one parameter with fixed
# gradients. "param" lines: θ₀ = (0.5, −1, 2, 0). "wide" lines: a 32-element parameter, long enough that PyTorch's
# vectorized CPU kernels (not their scalar remainder loop) update every element, with the parameter and every
# state buffer (PyTorch's names) printed to 9 significant digits, which identify a float32 exactly.
# Run: /usr/bin/python3 golden_optimizers.py   (Debian's python3-torch; 1.13 made the pinned values)
import torch
grads = [[0.1, -0.2, 0.3, 0.05], [-0.3, 0.1, 0.2, -0.4], [0.2, 0.2, -0.1, 0.0]]
configs = [
    ("sgd", lambda p: torch.optim.SGD(p, lr=0.1)),
    ("sgd_momentum", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("sgd_nesterov", lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    ("adam", lambda p: torch.optim.Adam(p, lr=0.1)),
    ("adam_amsgrad_wd", lambda p: torch.optim.Adam(p, lr=0.1, weight_decay=0.1, amsgrad=True)),
    ("adamw", lambda p: torch.optim.AdamW(p, lr=0.1)),
    ("rmsprop", lambda p: torch.optim.RMSprop(p, lr=0.01)),
    ("rmsprop_centered_momentum_wd", lambda p: torch.optim.RMSprop(p, lr=0.01, centered=True, momentum=0.9, weight_decay=0.1)),
    ("adagrad", lambda p: torch.optim.Adagrad(p, lr=0.1)),
    ("adagrad_decay_init_wd", lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.1, initial_accumulator_value=0.5, weight_decay=0.1)),
]
print(torch.__version__)
fmt = lambda t: "[" + ", ".join("%.9gf" % v for v in t.detach().tolist()) + "]"
for name, make in configs:
    p = torch.tensor([0.5, -1.0, 2.0, 0.0], requires_grad=True)
    opt = make([p])
    for g in grads:
        p.grad = torch.tensor(g)
        opt.step()
    print(name, "param", fmt(p))
    n = 32
    p = torch.tensor([((j * 7) % 13 - 6) / 4 for j in range(n)], requires_grad=True)
    opt = make([p])
    for t in range(3):
        p.grad = torch.tensor([(((j + 1) * (t + 3) * 5) % 17 - 8) / 20 for j in range(n)])
        opt.step()
    print(name, "wide_param", fmt(p))
    for k, v in opt.state[p].items():
        if torch.is_tensor(v) and v.numel() == n:
            print(name, "wide_" + k, fmt(v))
