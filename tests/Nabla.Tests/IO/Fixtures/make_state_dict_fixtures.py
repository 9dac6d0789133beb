# Makes the PyTorch state-dict fixtures of StateDictTests: four nn.Sequential models of the kinds a PyTorch user
# saves (ReLU; Tanh; Dropout gaps with indices 1, 4, 7; no Flatten, indices 0, 2), each trained briefly on
# Fashion-MNIST so that its accuracy is far from chance, saved as a plain state dict in safetensors (no metadata
# but "format": "pt"), with PyTorch's own test accuracy on the 10,000 test images and the activation to give.
# Run: /usr/bin/python3 make_state_dict_fixtures.py [DATA_DIR]   (Debian's python3-torch; the four .gz files)
# Debian 12 packages no safetensors module, so the file is written by the specification's layout, as in
# make_torch_fixture.py: u64 little-endian header length, JSON header padded with spaces to 8 bytes, data.
import gzip, json, struct, sys
import numpy as np
import torch, torch.nn as nn

data = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"

def idx(name, offset):
    with gzip.open(f"{data}/{name}.gz") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)

xtr = torch.tensor(idx("train-images-idx3-ubyte", 16).reshape(-1, 784), dtype=torch.float32) / 255
ytr = torch.tensor(idx("train-labels-idx1-ubyte", 8), dtype=torch.long)
xte = torch.tensor(idx("t10k-images-idx3-ubyte", 16).reshape(-1, 784), dtype=torch.float32) / 255
yte = torch.tensor(idx("t10k-labels-idx1-ubyte", 8), dtype=torch.long)

def save(path, model):
    header, blob, offset = {"__metadata__": {"format": "pt"}}, b"", 0
    for name, t in model.state_dict().items():
        raw = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blob += raw
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blob)

models = {
    "relu": (nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10)), "relu"),
    "tanh": (nn.Sequential(nn.Flatten(), nn.Linear(784, 48), nn.Tanh(), nn.Linear(48, 10)), "tanh"),
    "dropout": (nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Dropout(0.2),
                              nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10)), "relu"),
    "noflatten": (nn.Sequential(nn.Linear(784, 40), nn.Sigmoid(), nn.Linear(40, 10)), "sigmoid"),
}
summary = {"torch": torch.__version__, "models": {}}
for i, (name, (model, act)) in enumerate(models.items()):
    torch.manual_seed(i)
    for m in model.modules():
        if isinstance(m, nn.Linear): m.reset_parameters()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(i)
    model.train()
    for epoch in range(1):
        for b in torch.randperm(60000, generator=g).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(model(xtr[b]), ytr[b]).backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
        logits = model(xte[:2]).tolist()
    save(f"torch_{name}.safetensors", model)
    summary["models"][name] = {"file": f"torch_{name}.safetensors", "activation": act,
                               "keys": list(model.state_dict().keys()), "test_accuracy": round(100 * acc, 2),
                               "logits_first_two_test_images": logits}
    print(name, act, round(100 * acc, 2))
json.dump(summary, open("torch_state_dicts.json", "w"), indent=1)
