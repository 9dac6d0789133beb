# Makes textbook_torch.safetensors and textbook_torch_logits.json, the fixture of SafeTensorsTests:
# PyTorch's nn.Sequential(Flatten, Linear(784, 32), Sigmoid, Linear(32, 10)) with torch.manual_seed(0), its weights
# in safetensors, and its logits on two fixed inputs.
# Run: /usr/bin/python3 make_torch_fixture.py   (Debian's python3-torch)
# It uses safetensors.torch.save_file when the safetensors package is installed. Debian 12 does not package it
# (and PyPI is not reachable here), so the committed fixture was written by the fallback below, which follows
# the format's specification: u64 little-endian header length, JSON header padded with spaces to 8 bytes, data.
import json, struct
import torch, torch.nn as nn

torch.manual_seed(0)
model = nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.Sigmoid(), nn.Linear(32, 10))
tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}

try:
    from safetensors.torch import save_file
    save_file(tensors, "textbook_torch.safetensors", metadata={"format": "pt"})
    writer = "safetensors.torch.save_file"
except ImportError:
    header, data, offset = {"__metadata__": {"format": "pt"}}, b"", 0
    for name, t in tensors.items():
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open("textbook_torch.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + data)
    writer = "specification fallback"

x = torch.tensor([[(i % 7) / 7.0 for i in range(784)], [((i * 3) % 11) / 11.0 for i in range(784)]]).reshape(2, 1, 28, 28)
with torch.no_grad():
    logits = model(x)
json.dump({"writer": writer, "torch": torch.__version__, "logits": logits.tolist()}, open("textbook_torch_logits.json", "w"), indent=1)
print(writer, torch.__version__)
