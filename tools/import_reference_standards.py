#!/usr/bin/env python3
"""One-off importer: turns the project's research tables (../shared/reference/standards/*.csv,
not part of this repository) into rewater's own standard files under standards/.

It maps the research codes to HJ 212 factor codes, turns code suffixes (tp_river, nh3n_cold,
nh3n_winter, tp_built_before_2006, total_chlorine_outlet) into explicit conditions, and sets a
per-row confidence ("unverified" wherever the research note says UNVERIFIED). Re-run it only
when the research tables change; hand edits to standards/*.toml are otherwise the source of truth.
"""
import csv, os, sys

REF = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'reference', 'standards')
OUT = os.path.join(os.path.dirname(__file__), '..', 'standards')

FACTOR = {
    'ph': 'w01001', 'do': 'w01009', 'codmn': 'w01019', 'cod': 'w01018', 'bod5': 'w01017',
    'nh3n': 'w21003', 'tn': 'w21001', 'tp': 'w21011', 'ss': 'w01012', 'turbidity': 'w01003',
    'color': 'w01002', 'fecal_coliform': 'w02003', 'tds': 'w01006', 'chloride': 'w21022',
    'sulfate': 'w21038', 'las': 'w19002', 'petroleum': 'w22001', 'hg': 'w20111', 'cd': 'w20115',
    'cr6': 'w20117', 'pb': 'w20120', 'as': 'w20119', 'cu': 'w20122', 'zn': 'w20123',
    'se': 'w20128', 'fluoride': 'w21017', 'cyanide': 'w21016', 'volatile_phenol': 'w23002',
    'sulfide': 'w21019', 'fe': 'w20125', 'mn': 'w20124', 'cr_total': 'w20116',
    'alkyl_hg': 'w20113', 'water_temp': 'w01010',
    # No HJ 212 code: rewater's own codes (see crates/rewater-standards/src/factor.rs).
    'e_coli': 'e_coli', 'animal_veg_oil': 'animal_veg_oil', 'residual_chlorine': 'residual_chlorine',
    'odor': 'odor', 'basic': 'appearance', 'salinity': 'salinity', 'silica': 'silica',
    'total_hardness': 'total_hardness', 'total_alkalinity': 'total_alkalinity',
    'roundworm_eggs': 'helminth_eggs', 'water_temp_weekly_rise': 'water_temp_weekly_rise',
    'water_temp_weekly_drop': 'water_temp_weekly_drop',
}
VARIANT = {  # research code -> (factor, condition)
    'tp_river': ('tp', {'water_body': 'river'}),
    'tp_lake': ('tp', {'water_body': 'lake'}),
    'tn_lake': ('tn', {'water_body': 'lake'}),
    'nh3n_cold': ('nh3n', {'water_temp_c_at_most': 12}),
    'tp_built_before_2006': ('tp', {'plant_built_before': '2006-01-01'}),
    'tp_built_from_2006': ('tp', {'plant_built_from': '2006-01-01'}),
    'total_chlorine_outlet': ('total_chlorine', {'sampling_point': 'outlet'}),
    'total_chlorine_network_end': ('total_chlorine', {'sampling_point': 'network_end'}),
}
FACTOR['total_chlorine'] = 'total_chlorine'
UNIT = {
    'mg/L': 'mg/L', 'dimensionless': 'pH', '°C': '°C', 'count/L (个/L)': 'count/L',
    'dilution multiple': 'dilution', 'NTU': 'NTU', 'MPN/100 mL or CFU/100 mL': 'MPN/100mL',
    'MPN/L': 'MPN/L', 'count/10 L': 'eggs/10L', 'Pt-Co colour unit (铂钴色度单位)': 'Pt-Co',
    'degree (度)': 'Pt-Co', 'qualitative': '',
}
CLASS = {
    '冲厕 toilet flushing': 'toilet_flushing', '车辆冲洗 vehicle washing': 'vehicle_washing',
    '城市绿化 urban greening': 'urban_greening', '道路清扫 road cleaning': 'road_cleaning',
    '消防 fire fighting': 'fire_fighting', '建筑施工 construction': 'construction',
    '观赏性-河道类 ornamental river': 'ornamental_river', '观赏性-湖泊类 ornamental lake': 'ornamental_lake',
    '观赏性-水景类 ornamental water feature': 'ornamental_water_feature',
    '娱乐性-河道类 recreational river': 'recreational_river', '娱乐性-湖泊类 recreational lake': 'recreational_lake',
    '娱乐性-水景类 recreational water feature': 'recreational_water_feature',
    '景观湿地 landscape wetland': 'landscape_wetland',
    '直流冷却水 once-through cooling': 'once_through_cooling',
    '敞开式循环冷却水系统补充水 open recirculating cooling make-up': 'open_recirculating_cooling',
    '洗涤用水 washing': 'washing', '锅炉补给水 boiler make-up': 'boiler_makeup',
    '工艺与产品用水 process and product': 'process_product',
    '纤维作物 fibre crops': 'fibre_crops', '旱地谷物、油料作物 upland cereals and oil crops': 'upland_cereals_oil',
    '水田谷物 paddy cereals': 'paddy_cereals', '露地蔬菜 open-field vegetables': 'open_field_vegetables',
    '水田作物 paddy crops': 'paddy', '旱地作物 upland crops': 'upland',
    '蔬菜(加工、烹调及去皮) vegetables cooked/peeled': 'vegetables_cooked',
    '蔬菜(生食类、瓜类和草本水果) raw-eaten vegetables, melons, herbaceous fruit': 'vegetables_raw',
}

META = {
    'GB 3838-2002': dict(file='gb3838-2002', id='GB3838-2002', kind='classification', title_zh='地表水环境质量标准',
        title_en='Environmental quality standards for surface water', issued='2002-04-28', effective_from='2002-06-01',
        confidence='high', averaging='sample', worse_than_last='劣V',
        classes=[('I', 'Ⅰ类', 'class I'), ('II', 'Ⅱ类', 'class II'), ('III', 'Ⅲ类', 'class III'), ('IV', 'Ⅳ类', 'class IV'), ('V', 'Ⅴ类', 'class V')],
        default_target_class='III',
        quality={'I': ('优', 'excellent'), 'II': ('优', 'excellent'), 'III': ('良好', 'good'), 'IV': ('轻度污染', 'slightly polluted'), 'V': ('中度污染', 'moderately polluted')},
        # 环办〔2011〕22号: the 21 Table 1 items other than water temperature, TN and fecal coliforms.
        evaluated=['w01001', 'w01009', 'w01019', 'w01018', 'w01017', 'w21003', 'w21011', 'w20122', 'w20123', 'w21017', 'w20128', 'w20119', 'w20111', 'w20115', 'w20117', 'w20120', 'w21016', 'w23002', 'w22001', 'w19002', 'w21019']),
    'GB 18918-2002': dict(file='gb18918-2002', id='GB18918-2002', kind='grades', title_zh='城镇污水处理厂污染物排放标准',
        title_en='Discharge standard of pollutants for municipal wastewater treatment plant', issued='2002-12-24', effective_from='2003-07-01',
        confidence='high', averaging='daily_mean',
        classes=[('1A', '一级A', 'grade 1A'), ('1B', '一级B', 'grade 1B'), ('2', '二级', 'grade 2'), ('3', '三级', 'grade 3')]),
    'DB11/890-2012': dict(file='db11-890-2012', id='DB11/890-2012', kind='grades', title_zh='城镇污水处理厂水污染物排放标准(北京市地方标准)',
        title_en='Discharge standard of water pollutants for municipal wastewater treatment plants (Beijing)', issued='2012-05-28', effective_from='2012-07-01',
        confidence='unverified', averaging='daily_mean',
        classes=[('new_A', '新(改、扩)建 A 标准', 'new plants, A'), ('new_B', '新(改、扩)建 B 标准', 'new plants, B'), ('existing_A', '现有 A 标准', 'existing plants, A'), ('existing_B', '现有 B 标准', 'existing plants, B')]),
    'GB/T 18920-2020': dict(file='gbt18920-2020', id='GB/T18920-2020', kind='uses', title_zh='城市污水再生利用 城市杂用水水质',
        title_en='The reuse of urban recycling water - Water quality standard for urban miscellaneous use', issued='2020-03-31', effective_from='2021-02-01',
        confidence='high', averaging='daily_mean'),
    'GB/T 18921-2019': dict(file='gbt18921-2019', id='GB/T18921-2019', kind='uses', title_zh='城市污水再生利用 景观环境用水水质',
        title_en='The reuse of urban recycling water - Water quality standard for scenic environment use', issued='2019-06-04', effective_from='2020-05-01',
        confidence='unverified', averaging='daily_mean'),
    'GB/T 19923-2005': dict(file='gbt19923-2005', id='GB/T19923-2005', kind='uses', title_zh='城市污水再生利用 工业用水水质',
        title_en='The reuse of urban recycling water - Water quality standard for industrial uses', issued='2005-09-28', effective_from='2006-04-01',
        confidence='medium', averaging='daily_mean'),
    'GB 20922-2007': dict(file='gb20922-2007', id='GB20922-2007', kind='uses', title_zh='城市污水再生利用 农田灌溉用水水质',
        title_en='The reuse of urban recycling water - Quality of farmland irrigation water', issued='2007-04-06', effective_from='2007-10-01',
        confidence='unverified', averaging='sample'),
    'GB 5084-2021': dict(file='gb5084-2021', id='GB5084-2021', kind='uses', title_zh='农田灌溉水质标准',
        title_en='Standard for irrigation water quality', issued='2021-01-20', effective_from='2021-07-01',
        confidence='medium', averaging='sample'),
}


def q(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'


def num(v):
    f = float(v)
    return str(int(f)) if f == int(f) and abs(f) < 1e15 else repr(f)


def main():
    rows = []
    for f in ['gb3838.csv', 'gb18918.csv', 'db11_890.csv', 'reuse_standards.csv']:
        rows += list(csv.DictReader(open(os.path.join(REF, f), encoding='utf-8')))
    by_std = {}
    for r in rows:
        by_std.setdefault(r['standard'], []).append(r)
    os.makedirs(OUT, exist_ok=True)
    for std, rs in by_std.items():
        m = META[std]
        classes = m.get('classes')
        if classes is None:
            seen = []
            for r in rs:
                c = CLASS[r['class_or_use']]
                if c not in [x[0] for x in seen]:
                    zh, en = r['class_or_use'].split(' ', 1)
                    seen.append((c, zh, en))
            classes = seen
        urls = sorted(set(r['source_url'] for r in rs))
        out = []
        out.append('# rewater standard file. Format: docs/standards-format.md. Values carry their source and')
        out.append('# confidence; rows marked "unverified" must be confirmed against the official text.')
        out.append(f'id = {q(m["id"])}')
        out.append(f'title_zh = {q(m["title_zh"])}')
        out.append(f'title_en = {q(m["title_en"])}')
        out.append(f'kind = {q(m["kind"])}')
        out.append(f'issued = {q(m["issued"])}')
        out.append(f'effective_from = {q(m["effective_from"])}')
        out.append(f'averaging = {q(m["averaging"])}')
        out.append(f'confidence = {q(m["confidence"])}')
        if 'worse_than_last' in m:
            out.append(f'worse_than_last = {q(m["worse_than_last"])}')
            out.append('# 环办〔2011〕22号 qualitative grade of the worse-than-last class.')
            out.append('worse_than_last_quality_zh = "重度污染"')
            out.append('worse_than_last_quality_en = "severely polluted"')
        if 'default_target_class' in m:
            out.append(f'default_target_class = {q(m["default_target_class"])}')
        if 'evaluated' in m:
            out.append('# Items evaluated by default (环办〔2011〕22号: Table 1 less water temperature, TN, fecal coliforms).')
            out.append('default_evaluated = [' + ', '.join(q(x) for x in m['evaluated']) + ']')
        out.append('sources = [' + ', '.join(q(u) for u in urls) + ']')
        out.append('')
        quality = m.get('quality', {})
        for cid, zh, en in classes:
            out.append('[[class]]')
            out.append(f'id = {q(cid)}')
            out.append(f'name_zh = {q(zh)}')
            out.append(f'name_en = {q(en)}')
            if cid in quality:
                out.append(f'quality_zh = {q(quality[cid][0])}')
                out.append(f'quality_en = {q(quality[cid][1])}')
            out.append('')
        for r in rs:
            code = r['parameter_code']
            cond = {}
            if code in VARIANT:
                code, cond = VARIANT[code]
                cond = dict(cond)
            if std == 'GB 18918-2002' and code == 'nh3n' and r['parameter_code'] == 'nh3n':
                cond = {'water_temp_c_above': 12}
            if std == 'DB11/890-2012' and r['parameter_code'] == 'nh3n_winter':
                code, cond = 'nh3n', {'date_window': '12-01..03-31'}
            elif std == 'DB11/890-2012' and code == 'nh3n':
                cond = {'date_window': '04-01..11-30'}
            factor = FACTOR[code]
            cls = r['class_or_use']
            cls = CLASS.get(cls, cls)
            if cls == 'all':
                cls = '*'
            unit = UNIT[r['unit']]
            note = r['note'].strip()
            conf = 'unverified' if 'UNVERIFIED' in note else m['confidence']
            if conf == 'unverified' and m['confidence'] != 'unverified':
                pass
            out.append('[[limit]]')
            out.append(f'class = {q(cls)}')
            out.append(f'factor = {q(factor)}')
            lt = r['limit_type']
            if r['unit'] == 'qualitative' or (lt == 'max' and r['value'] == '' and r['value_low'] == ''):
                out.append('type = "qualitative"')
                out.append(f'requirement = {q(note.split(";")[0])}')
            else:
                out.append(f'type = {q(lt)}')
                if lt == 'range':
                    out.append(f'low = {num(r["value_low"])}')
                    out.append(f'high = {num(r["value_high"])}')
                else:
                    out.append(f'value = {num(r["value"])}')
                out.append(f'unit = {q(unit)}')
            for k, v in cond.items():
                out.append(f'when.{k} = {q(v) if isinstance(v, str) else num(v)}')
            out.append(f'confidence = {q(conf)}')
            if r['source_url'] != urls[0] or len(urls) > 1:
                out.append(f'source = {q(r["source_url"])}')
            out.append(f'note = {q(note)}')
            out.append('')
        with open(os.path.join(OUT, m['file'] + '.toml'), 'w', encoding='utf-8') as fh:
            fh.write('\n'.join(out))
        print(m['file'], len(rs))


main()
