"""An independent safetensors writer for SafeTensorsTest (standard library only, no safetensors
package): written from the format description, not from the Java writer.

Usage: python3 write_safetensors.py OUT_FILE
Writes three tensors with values given by closed formulas the test recomputes:
  "w.f32"  F32  [3, 5]   value i*0.25 - 1.5           (i = row-major index)
  "b.bf16" BF16 [4, 2]   bf16 pattern 0x3F80 + 37*i    (raw 16-bit patterns)
  "ids"    I32  [6]      value (-1)**i * i * 1000003
and metadata {"format": "pt", "writer": "python"}; header keys are in a shuffled order and the
data buffer in a different order than the header, which the format allows.
"""
import json
import struct
import sys

f32 = b"".join(struct.pack("<f", i * 0.25 - 1.5) for i in range(15))
bf16 = b"".join(struct.pack("<H", 0x3F80 + 37 * i) for i in range(8))
ids = b"".join(struct.pack("<i", (-1) ** i * i * 1000003) for i in range(6))

# data buffer order: ids, w.f32, b.bf16
buf = ids + f32 + bf16
o1 = len(ids)
o2 = o1 + len(f32)
header = {
    "b.bf16": {"dtype": "BF16", "shape": [4, 2], "data_offsets": [o2, o2 + len(bf16)]},
    "__metadata__": {"format": "pt", "writer": "python"},
    "w.f32": {"shape": [3, 5], "dtype": "F32", "data_offsets": [o1, o2]},
    "ids": {"data_offsets": [0, o1], "dtype": "I32", "shape": [6]},
}
text = json.dumps(header, separators=(",", ":")).encode("utf-8")
with open(sys.argv[1], "wb") as out:
    out.write(struct.pack("<Q", len(text)))
    out.write(text)
    out.write(buf)
