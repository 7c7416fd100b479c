"""Copies every tokenizer.* metadata field of one GGUF into a gguf-py writer
(shared by shaped_teacher.py and converter_gguf.py)."""
import gguf


def copy_tokenizer(src: "gguf.GGUFReader", w: "gguf.GGUFWriter") -> None:
    for field in src.fields.values():
        if not field.name.startswith("tokenizer."):
            continue
        vtype = field.types[0]
        if vtype == gguf.GGUFValueType.ARRAY:
            sub = field.types[-1]
            if sub == gguf.GGUFValueType.STRING:
                vals = [bytes(field.parts[i]).decode("utf-8", errors="surrogateescape") for i in field.data]
            else:
                vals = [field.parts[i].tolist()[0] for i in field.data]
            w.add_key_value(field.name, vals, vtype, sub_type=sub)
        elif vtype == gguf.GGUFValueType.STRING:
            w.add_key_value(field.name, bytes(field.parts[field.data[0]]).decode("utf-8"), vtype)
        else:
            w.add_key_value(field.name, field.parts[field.data[0]].tolist()[0], vtype)
