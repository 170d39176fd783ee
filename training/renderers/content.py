"""What a document says, apart from how it is drawn: every renderer draws these contents, so all of them write
the same truth (`fields`, as synthetic_documents.py and `infermesh-evaluate --docs` use them) for the same
kinds of documents, in English, Portuguese and German labels.

content(rng, doc_type) -> dict with "lang", "fields" (the truth), and the strings a renderer lays out.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import synthetic_documents as sd  # noqa: E402  (names, dates, money, CPF: one source of values)

LANGS = ["en", "pt", "de"]

# Labels per language. Portuguese and German keep their accents where a real document has them.
LABELS = {
    "invoice": {
        "en": dict(title=["INVOICE", "Invoice", "TAX INVOICE"], number=["Invoice number:", "Invoice No.", "Invoice #"],
                   date=["Date:", "Invoice date:", "Issue date:"], desc="Description", qty="Qty", amount="Amount",
                   total=["TOTAL", "Total due", "Amount due"], to=["Bill to", "Customer"], due="Payment due within 30 days."),
        "pt": dict(title=["FATURA", "Fatura", "NOTA FISCAL"], number=["Fatura n.º", "Número:", "Nº da fatura:"],
                   date=["Data:", "Data de emissão:", "Emitida em:"], desc="Descrição", qty="Qtd", amount="Valor",
                   total=["TOTAL", "Total a pagar", "Valor total"], to=["Cliente", "Faturar a"], due="Pagamento em 30 dias."),
        "de": dict(title=["RECHNUNG", "Rechnung"], number=["Rechnungsnummer:", "Rechnung Nr.", "Rechnungs-Nr.:"],
                   date=["Datum:", "Rechnungsdatum:"], desc="Beschreibung", qty="Menge", amount="Betrag",
                   total=["SUMME", "Gesamtbetrag", "Gesamt"], to=["Kunde", "Rechnungsempfänger"], due="Zahlbar innerhalb von 30 Tagen."),
    },
    "receipt": {
        "en": dict(total=["TOTAL", "Total"], thanks=["THANK YOU", "Come again", "Thank you for shopping"], cash="CASH", change="CHANGE"),
        "pt": dict(total=["TOTAL", "TOTAL A PAGAR"], thanks=["OBRIGADO!", "Volte sempre"], cash="DINHEIRO", change="TROCO"),
        "de": dict(total=["SUMME", "GESAMT", "Total"], thanks=["Danke für Ihren Einkauf", "Vielen Dank"], cash="BAR", change="RÜCKGELD"),
    },
    "id_card": {
        "en": dict(title=["IDENTITY CARD", "NATIONAL ID CARD"], name=["Name", "NAME", "Surname / Given names"],
                   birth=["Date of birth", "DATE OF BIRTH"], number=["CPF", "ID No. (CPF)"]),
        "pt": dict(title=["REPÚBLICA FEDERATIVA DO BRASIL", "CARTEIRA DE IDENTIDADE", "CARTEIRA NACIONAL DE HABILITAÇÃO"],
                   name=["NOME", "Nome"], birth=["Data de nascimento", "DATA DE NASCIMENTO", "Nascimento"], number=["CPF"]),
        "de": dict(title=["PERSONALAUSWEIS", "IDENTITY CARD / PERSONALAUSWEIS"], name=["Name", "NAME / Vorname"],
                   birth=["Geburtsdatum", "Date of birth / Geburtsdatum"], number=["CPF", "Nr. (CPF)"]),
    },
    "letter": {
        "en": dict(greeting=["Dear", "Dear Mr.", "Dear Ms."], closing=["Sincerely,", "Kind regards,", "Yours faithfully,"],
                   subject="Subject:"),
        "pt": dict(greeting=["Prezado", "Prezada Sra.", "Caro"], closing=["Atenciosamente,", "Cordialmente,"], subject="Assunto:"),
        "de": dict(greeting=["Sehr geehrte Frau", "Sehr geehrter Herr"], closing=["Mit freundlichen Grüßen", "Hochachtungsvoll"],
                   subject="Betreff:"),
    },
    "form": {
        "en": dict(title=["APPLICATION FORM", "REGISTRATION FORM", "CLAIM FORM"], id="Form ID:",
                   fields=["Full name", "Address", "City", "Phone", "E-mail", "Date of birth", "Occupation", "Signature",
                           "Employer", "Nationality", "Passport", "Reference"], options=["Yes", "No", "N/A", "Other"]),
        "pt": dict(title=["FORMULÁRIO", "FICHA DE CADASTRO", "REQUERIMENTO"], id="Form ID:",
                   fields=["Nome completo", "Endereço", "Cidade", "Telefone", "E-mail", "Data de nascimento", "Profissão",
                           "Assinatura", "Empregador", "Nacionalidade", "Passaporte", "Referência"],
                   options=["Sim", "Não", "Outro"]),
        "de": dict(title=["ANTRAG", "ANMELDEFORMULAR", "FORMULAR"], id="Form ID:",
                   fields=["Vollständiger Name", "Anschrift", "Ort", "Telefon", "E-Mail", "Geburtsdatum", "Beruf",
                           "Unterschrift", "Arbeitgeber", "Staatsangehörigkeit", "Reisepass", "Aktenzeichen"],
                   options=["Ja", "Nein", "Sonstiges"]),
    },
}

SENTENCES = {
    "pt": ("o a de que e do da em um para com não uma os no se na por mais as dos como mas foi ao ele das tem seu sua "
           "ou ser quando muito nos já está também só pelo pela até isso ela entre era depois sem mesmo aos ter seus "
           "contrato pagamento prazo serviço pedido empresa cliente documento conforme solicitado").split(),
    "de": ("der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat "
           "dass sie nach wird bei einer um am sind noch wie einem über einen so zum war haben nur oder aber vor zur "
           "Vertrag Zahlung Frist Leistung Auftrag Unternehmen Kunde Unterlagen gemäß beigefügt").split(),
}


def sentence(rng, lang, n):
    if lang == "en":
        return sd.sentence(rng, n)
    s = " ".join(rng.choice(SENTENCES[lang]) for _ in range(n))
    return s[0].upper() + s[1:] + "."


def show_date(rng, lang, d):
    """A date as such a document writes it; the truth is always ISO. German and Portuguese use day first."""
    if lang == "en":
        return sd.show_date(rng, d)
    return rng.choice([d.strftime("%d.%m.%Y"), d.strftime("%d/%m/%Y"), d.isoformat()]) if lang == "de" else \
        rng.choice([d.strftime("%d/%m/%Y"), d.strftime("%d.%m.%Y"), d.isoformat()])


def pick(rng, v):
    return rng.choice(v) if isinstance(v, list) else v


def invoice(rng, lang):
    L = LABELS["invoice"][lang]
    number = rng.choice(["INV-", "FT ", "RE-", "No. ", "#", "NF-"]) + "%d-%05d" % (rng.randint(2018, 2026), rng.randint(1, 99999))
    d = sd.rand_date(rng); cur, fmt = rng.choice(sd.CURRENCIES)
    items, total_cents = [], 0
    for _ in range(rng.randint(2, 9)):
        amount = sd.money(rng, 5, 900); total_cents += int(amount.replace(".", ""))
        items.append((str(rng.randint(1, 9)), rng.choice(sd.ITEMS), amount))
    total = "%d.%02d" % (total_cents // 100, total_cents % 100)
    return dict(lang=lang, title=pick(rng, L["title"]), number_label=pick(rng, L["number"]), number=number,
                date_label=pick(rng, L["date"]), date=show_date(rng, lang, d), desc=L["desc"], qty=L["qty"],
                amount=L["amount"], total_label=pick(rng, L["total"]), total=sd.show_money(rng, total, fmt),
                to=pick(rng, L["to"]), due=L["due"], seller=[sd.company(rng)] + sd.address(rng),
                buyer=[sd.company(rng)] + sd.address(rng), items=items,
                fields={"invoice_number": number, "date": d.isoformat(), "total": total, "currency": cur})


def receipt(rng, lang):
    L = LABELS["receipt"][lang]
    d = sd.rand_date(rng); cur, fmt = rng.choice(sd.CURRENCIES)
    items, total_cents = [], 0
    for _ in range(rng.randint(2, 12)):
        amount = sd.money(rng, 1, 60); total_cents += int(amount.replace(".", ""))
        items.append((rng.choice(sd.ITEMS), amount))
    total = "%d.%02d" % (total_cents // 100, total_cents % 100)
    return dict(lang=lang, shop=rng.choice(sd.SHOPS), address=sd.address(rng), items=items,
                total_label=pick(rng, L["total"]), total=sd.show_money(rng, total, fmt),
                when="%s %02d:%02d" % (show_date(rng, lang, d), rng.randint(6, 23), rng.randint(0, 59)),
                thanks=pick(rng, L["thanks"]), cash=L["cash"], change=L["change"],
                fields={"date": d.isoformat(), "total": total, "currency": cur})


def id_card(rng, lang):
    L = LABELS["id_card"][lang]
    name = sd.person(rng).upper(); birth = sd.rand_date(rng)
    birth = birth.replace(year=rng.randint(1940, 2006), day=min(birth.day, 28))  # no 29 Feb in a random year
    valid = rng.random() < 0.8
    number = sd.cpf(rng, valid)
    return dict(lang=lang, title=pick(rng, L["title"]), name_label=pick(rng, L["name"]), name=name,
                birth_label=pick(rng, L["birth"]), birth=show_date(rng, lang, birth),
                number_label=pick(rng, L["number"]), number=number,
                fields={"name": name, "birth_date": birth.isoformat(), "id_number": number, "cpf_valid": valid})


def letter(rng, lang):
    L = LABELS["letter"][lang]
    sender = sd.person(rng); d = sd.rand_date(rng)
    return dict(lang=lang, sender=sender, sender_address=sd.address(rng), recipient=[sd.person(rng)] + sd.address(rng),
                date=show_date(rng, lang, d), greeting=pick(rng, L["greeting"]) + " " + rng.choice(sd.LAST) + ",",
                subject=L["subject"] + " " + sentence(rng, lang, rng.randint(3, 6))[:-1],
                paragraphs=[sentence(rng, lang, rng.randint(25, 60)) for _ in range(rng.randint(2, 4))],
                closing=pick(rng, L["closing"]), fields={"date": d.isoformat(), "sender": sender})


def form(rng, lang):
    L = LABELS["form"][lang]
    fields = {}
    form_id = None
    if rng.random() < 0.8:
        form_id = "%s-%04d" % (rng.choice(["F", "FORM", "AF", "RF"]), rng.randint(1, 9999))
        fields["form_id"] = form_id
    labels = list(L["fields"]); rng.shuffle(labels)
    rows = []
    for label in labels[: rng.randint(5, 10)]:
        if rng.random() < 0.25:
            rows.append(("check", [(o, rng.random() < 0.4) for o in rng.sample(L["options"], 3 if len(L["options"]) > 3 else len(L["options"]))]))
        else:
            rows.append(("box", label))
    return dict(lang=lang, title=pick(rng, L["title"]), id_label=L["id"], form_id=form_id, rows=rows, fields=fields)


CONTENT = {"invoice": invoice, "receipt": receipt, "id_card": id_card, "letter": letter, "form": form}


def content(rng, doc_type):
    return CONTENT[doc_type](rng, rng.choice(LANGS))
