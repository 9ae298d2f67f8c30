"""Selection (logical coordinates) -> crop rectangles in screenshot pixels."""

from __future__ import annotations

from gui.snip_geometry import Rect, ScreenInfo, physical_rect, plan_crop, size_readout

LEFT_1X = ScreenInfo(Rect(0, 0, 1920, 1080), dpr=1.0)
RIGHT_2X = ScreenInfo(Rect(1920, 0, 1440, 900), dpr=2.0)  # a 2880x1800 panel at 200%


def test_single_screen_at_dpr_1_is_the_selection_itself():
    size, pieces = plan_crop(Rect(100, 50, 300, 80), [LEFT_1X])
    assert size == (300, 80)
    assert pieces[0].source == (100, 50, 300, 80)


def test_single_screen_at_dpr_2_doubles_every_coordinate():
    screen = ScreenInfo(Rect(0, 0, 1440, 900), dpr=2.0)
    size, pieces = plan_crop(Rect(100, 50, 300, 80), [screen])
    assert size == (600, 160)
    assert pieces[0].source == (200, 100, 600, 160)


def test_fractional_selection_rounds_outwards_so_no_ink_is_lost():
    screen = ScreenInfo(Rect(0, 0, 1000, 1000), dpr=1.5)
    x, y, w, h = physical_rect(Rect(10.5, 10.5, 20, 20), screen)
    assert (x, y) == (15, 15)  # floor(15.75)
    assert x + w == 46 and y + h == 46  # ceil(45.75)


def test_selection_on_the_second_monitor_uses_that_monitors_pixels():
    size, pieces = plan_crop(Rect(2000, 100, 100, 50), [LEFT_1X, RIGHT_2X])
    assert [p.screen for p in pieces] == [1]
    assert pieces[0].source == (160, 200, 200, 100)  # (2000-1920)*2, 100*2
    assert size == (200, 100)


def test_selection_across_mixed_dpr_monitors_is_stitched_at_the_higher_ratio():
    sel = Rect(1820, 100, 200, 50)  # 100 px on each side of the seam
    size, pieces = plan_crop(sel, [LEFT_1X, RIGHT_2X])
    assert size == (400, 100)
    left, right = pieces
    assert left.screen == 0 and left.source == (1820, 100, 100, 50)
    assert left.target == (0, 0, 200, 100)  # upscaled to 2x
    assert right.screen == 1 and right.source == (0, 200, 200, 100)
    assert right.target == (200, 0, 200, 100)


def test_selection_outside_every_screen_is_empty():
    assert plan_crop(Rect(5000, 5000, 10, 10), [LEFT_1X, RIGHT_2X]) == ((0, 0), [])


def test_selection_is_clamped_to_the_screenshot():
    size, pieces = plan_crop(Rect(1900, 1070, 100, 100), [LEFT_1X])
    assert pieces[0].source == (1900, 1070, 20, 10)


def test_drag_in_any_direction_gives_the_same_rectangle():
    assert Rect.from_points(300, 200, 100, 50) == Rect(100, 50, 200, 150)


def test_size_readout_is_what_the_user_gets_in_pixels():
    assert size_readout(Rect(2000, 100, 100, 50), [LEFT_1X, RIGHT_2X]) == "200 × 100"
