"""A small space the sweep tests share: 12 points x 2 blocks, one invalid value, one area constraint."""

SMALL_SPACE = {
    "params": {
        "units.mxu.rows": [0, 64, 128],          # rows 0 is invalid: those points carry an error
        "units.mxu.cols": [64, 128],
        "tech.node": [7, 5],
    },
    "constraints": ["area_mm2 <= 90"],          # only 128x128 arrays at 7 nm (95.8 mm^2) fail
    "blocks": [{"phase": "decode", "kv_len": 1024}, {"phase": "prefill", "seq": 128}],
}
