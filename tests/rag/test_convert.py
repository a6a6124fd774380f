from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from slmstack.rag.convert import UnreadableFile, convert, kind_of


def make_pdf(path: Path, pages: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        for text in pages:
            fig = plt.figure(figsize=(6, 4))
            fig.text(0.1, 0.5, text)
            pdf.savefig(fig)
            plt.close(fig)


def make_docx(path: Path, heading: str, body: str) -> None:
    """A minimal valid .docx written by hand (no python-docx here)."""
    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    doc = (f'<?xml version="1.0" encoding="UTF-8"?><w:document {ns}><w:body>'
           f'<w:p><w:pPr><w:pStyle w:val="Heading1"/></w:pPr><w:r><w:t>{heading}</w:t></w:r></w:p>'
           f"<w:p><w:r><w:t>{body}</w:t></w:r></w:p></w:body></w:document>")
    styles = (f'<?xml version="1.0" encoding="UTF-8"?><w:styles {ns}><w:style w:type="paragraph" '
              'w:styleId="Heading1"><w:name w:val="heading 1"/></w:style></w:styles>')
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
            'package/2006/content-types"><Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            'ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            '<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.wordprocessingml.styles+xml"/></Types>'))
        z.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel}/officeDocument" Target="word/document.xml"/></Relationships>'))
        z.writestr("word/_rels/document.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
            'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
            f'{rel}/styles" Target="styles.xml"/></Relationships>'))
        z.writestr("word/document.xml", doc)
        z.writestr("word/styles.xml", styles)


def test_pdf_keeps_page_numbers(tmp_path):
    make_pdf(tmp_path / "r.pdf", ["Alpha page text", "Beta page text"])
    sections = convert(tmp_path / "r.pdf")
    assert [s.page for s in sections] == [1, 2]
    assert "Alpha" in sections[0].text and "Beta" in sections[1].text


def test_pptx_slides_become_pages(tmp_path):
    from pptx import Presentation

    prs = Presentation()
    for title in ["First slide", "Second slide"]:
        slide = prs.slides.add_slide(prs.slide_layouts[1])
        slide.shapes.title.text = title
    prs.save(tmp_path / "deck.pptx")
    sections = convert(tmp_path / "deck.pptx")
    assert [(s.page, "slide" in s.text) for s in sections] == [(1, True), (2, True)]
    assert "Second slide" in sections[1].text


def test_xlsx_sheets_and_docx_headings(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Prices"
    wb.active.append(["item", "price"])
    wb.active.append(["widget", 42])
    wb.create_sheet("Staff").append(["name", "Ada"])
    wb.save(tmp_path / "book.xlsx")
    sheets = convert(tmp_path / "book.xlsx")
    assert [s.page for s in sheets] == [1, 2] and "widget" in sheets[0].text
    make_docx(tmp_path / "c.docx", "Termination", "Either party may end this contract.")
    text = convert(tmp_path / "c.docx")[0].text
    assert "# Termination" in text and "Either party" in text


def test_code_becomes_a_fenced_block(tmp_path):
    (tmp_path / "m.py").write_text("def f():\n    return 1\n")
    assert kind_of(tmp_path / "m.py") == "code"
    assert convert(tmp_path / "m.py")[0].text.startswith("# m.py\n\n```python\ndef f()")


@pytest.mark.parametrize("name,data", [
    ("broken.pdf", b"%PDF-1.4 this is not really a pdf"),
    ("broken.docx", b"PK\x03\x04 truncated zip"),
    ("blob.txt", b"\x00\x01\x02binary"),
    ("empty.md", b"   \n"),
])
def test_unreadable_files_raise_with_the_path(tmp_path, name, data):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(UnreadableFile) as err:
        convert(tmp_path / name)
    assert name in str(err.value)


def _rc4(key: bytes, data: bytes) -> bytes:
    s, j = list(range(256)), 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for b in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(b ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def make_encrypted_pdf(path: Path, user_password: bytes) -> None:
    """A one-page PDF under the standard security handler (RC4 40-bit, revision 2), with a user
    password: readers must ask for it (PDF 1.7 §7.6.3, algorithms 2, 3 and 4)."""
    import hashlib

    pad = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
    user = (user_password + pad)[:32]
    owner = _rc4(hashlib.md5((b"owner-secret" + pad)[:32]).digest()[:5], user)
    file_id, perms = b"0123456789abcdef", -4
    key = hashlib.md5(user + owner + perms.to_bytes(4, "little", signed=True) + file_id).digest()
    u_entry = _rc4(key[:5], pad)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
            b"<< /Filter /Standard /V 1 /R 2 /O <" + owner.hex().encode() + b"> /U <"
            + u_entry.hex().encode() + b"> /P -4 >>"]
    body, offsets = b"%PDF-1.4\n", []
    for n, obj in enumerate(objs, 1):
        offsets.append(len(body))
        body += f"{n} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    body += (f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R /Encrypt 4 0 R /ID [<"
             f"{file_id.hex()}> <{file_id.hex()}>] >>\nstartxref\n{xref}\n%%EOF\n").encode()
    path.write_bytes(body)


def test_encrypted_files_are_reported(tmp_path):
    import pypdfium2 as pdfium

    make_encrypted_pdf(tmp_path / "locked.pdf", b"s3cret")
    pdfium.PdfDocument(str(tmp_path / "locked.pdf"), password="s3cret").close()  # a real PDF
    with pytest.raises(UnreadableFile, match="locked.pdf.*encrypted"):
        convert(tmp_path / "locked.pdf")
    # an encrypted Office file is an OLE compound file, not a zip package
    (tmp_path / "locked.docx").write_bytes(bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 504)
    with pytest.raises(UnreadableFile, match="locked.docx.*encrypted"):
        convert(tmp_path / "locked.docx")
