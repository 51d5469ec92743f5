from glassnet import demo


def test_the_demo_trains_and_prints_a_high_test_accuracy(capsys):
    assert demo.main() == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("glassnet demo:")
    last = lines[-1]
    assert last.startswith("test accuracy: ")
    assert float(last.split()[2]) > 0.9
