import {useApp, useInput, useStdout} from 'ink'
import {useEffect, useRef, useState} from 'react'
import type {ProviderType} from '../../core/pools/types.js'
import {StatusBoard} from './StatusBoard.js'
import {useBoardData, type BoardSources} from './use-board-data.js'

export interface BoardActions {
  toggleDisabled(id: string): Promise<string>
  reset(id: string): Promise<string>
  check(id: string): Promise<string>
  cycleStrategy(id: string): Promise<string>
  quit(): void
}

export interface BoardAppProps {
  sources: BoardSources
  actions: BoardActions
  intervalMs?: number
}

/** The live board: data from the hook, keys turned into actions; the drawing is StatusBoard's. */
export function BoardApp({sources, actions, intervalMs}: BoardAppProps) {
  const data = useBoardData(sources, intervalMs)
  const {stdout} = useStdout()
  const {exit} = useApp()
  const [size, setSize] = useState({width: stdout.columns || 80, height: stdout.rows || 24})
  const [selected, setSelected] = useState<string | null>(null)
  const [filter, setFilter] = useState<ProviderType | null>(null)
  const [help, setHelp] = useState(false)
  const [note, setNote] = useState<string | null>(null)

  useEffect(() => {
    const onResize = () => setSize({width: stdout.columns || 80, height: stdout.rows || 24})
    stdout.on('resize', onResize)
    return () => void stdout.off('resize', onResize)
  }, [stdout])

  const rows = filter ? data.rows.filter((r) => r.type === filter) : data.rows
  const current = rows.find((r) => r.id === selected) ?? rows[0]
  // Key events can arrive before React has swapped in the handler of the latest render; read the latest view here.
  const view = useRef({rows, current, filter})
  view.current = {rows, current, filter}
  const run = (action: (id: string) => Promise<string>) => {
    const {current} = view.current
    if (!current) return
    setNote(`${current.name}: working…`)
    action(current.id).then(setNote, (error: unknown) =>
      setNote(`${current.name}: ${error instanceof Error ? error.message : String(error)}`),
    )
  }

  useInput((input, key) => {
    const {rows, current, filter} = view.current
    if (input === 'q' || (key.ctrl && input === 'c')) {
      actions.quit()
      exit()
      return
    }
    if (input === '?') return setHelp((h) => !h)
    if (key.upArrow || key.downArrow) {
      if (rows.length === 0) return
      const index = Math.max(
        0,
        rows.findIndex((r) => r.id === current?.id),
      )
      const next = key.upArrow ? Math.max(0, index - 1) : Math.min(rows.length - 1, index + 1)
      return setSelected(rows[next]!.id)
    }
    if (input === 'f') {
      const types = [...new Set(data.rows.map((r) => r.type))]
      const position = filter ? types.indexOf(filter) : -1
      return setFilter(position + 1 < types.length ? types[position + 1]! : null)
    }
    if (input === 'd') return run(actions.toggleDisabled)
    if (input === 'r') return run(actions.reset)
    if (input === 'c') return run(actions.check)
    if (input === 's') return run(actions.cycleStrategy)
  })

  return (
    <StatusBoard
      data={note ? {...data, message: note} : data}
      width={size.width}
      height={size.height}
      selected={current?.id ?? null}
      filter={filter}
      help={help}
    />
  )
}
